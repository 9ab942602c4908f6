vcl 4.1;

import std;

backend app {
    .host = "app";
    .port = "8080";
    .connect_timeout = 2s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 10s;
    .probe = {
        .url = "/healthz";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
    }
}

acl purgers {
    "127.0.0.1";
    "10.0.0.0"/8;
    "172.16.0.0"/12;
}

sub vcl_recv {
    set req.http.Host = std.tolower(regsub(req.http.Host, ":[0-9]+$", ""));

    if (req.method == "PURGE") {
        if (!client.ip ~ purgers) {
            return (synth(405, "Not allowed"));
        }
        return (purge);
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    if (req.http.Authorization || req.url ~ "^/(admin|account|cart)") {
        return (pass);
    }

    # Tracking parameters never change the page.
    set req.url = regsuball(req.url, "(utm_[a-z]+|gclid|fbclid)=[^&]+&?", "");
    set req.url = regsub(req.url, "[?&]$", "");

    if (req.url ~ "\.(css|js|png|jpe?g|gif|svg|webp|woff2?)(\?.*)?$") {
        unset req.http.Cookie;
    }
    return (hash);
}

sub vcl_backend_response {
    if (bereq.url ~ "\.(css|js|png|jpe?g|gif|svg|webp|woff2?)(\?.*)?$") {
        unset beresp.http.Set-Cookie;
        set beresp.ttl = 1d;
    }
    set beresp.grace = 6h;
    if (beresp.status >= 500) {
        set beresp.uncacheable = true;
        set beresp.ttl = 5s;
    }
    return (deliver);
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
