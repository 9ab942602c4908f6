vcl 4.1;

backend app {
    .host = "127.0.0.1";
    .port = "8080";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
    }
}

acl purgers {
    "localhost";
    "10.0.0.0"/8;
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (!client.ip ~ purgers) {
            return (synth(405, "Not allowed"));
        }
        return (purge);
    }
    if (req.url ~ "^/(admin|account|cart)") {
        return (pass);
    }
    # Strip tracking parameters and cookies on static assets.
    set req.url = regsuball(req.url, "(utm_[a-z]+|gclid|fbclid)=[^&]*&?", "");
    set req.url = regsub(req.url, "[?&]$", "");
    if (req.url ~ "\.(css|js|png|jpg|svg|woff2)(\?.*)?$") {
        unset req.http.Cookie;
    }
}

sub vcl_backend_response {
    set beresp.grace = 6h;
    if (bereq.url ~ "\.(css|js|png|jpg|svg|woff2)(\?.*)?$") {
        set beresp.ttl = 7d;
    }
    if (beresp.status >= 500) {
        set beresp.ttl = 0s;
        set beresp.uncacheable = true;
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
    unset resp.http.Via;
    unset resp.http.X-Varnish;
}
