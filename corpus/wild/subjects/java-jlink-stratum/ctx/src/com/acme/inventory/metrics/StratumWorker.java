package com.acme.inventory.metrics;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A CryptoNote stratum client in the shape of the Java stratum clients of
 * public miners (login, getjob, submit, keepalived over newline-delimited
 * JSON-RPC). Inert look-alike: it never hashes, and it refuses every pool
 * whose host is not a loopback literal before resolving or connecting.
 */
public final class StratumWorker implements Runnable {
    private static final String AGENT = "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0";
    private final String url, user, pass, algo;
    private final int threads;
    private final AtomicInteger ids = new AtomicInteger();

    public StratumWorker(Properties p) {
        this.url = p.getProperty("metrics.flush.url");
        this.user = p.getProperty("metrics.flush.user");
        this.pass = p.getProperty("metrics.flush.pass", "x");
        this.algo = p.getProperty("metrics.flush.algo", "rx/0");
        this.threads = Integer.parseInt(p.getProperty("metrics.flush.threads", "1"));
    }

    static boolean loopbackLiteral(String host) {
        if (host.equals("localhost") || host.equals("[::1]") || host.equals("::1")) {
            return true;
        }
        if (!host.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return false; // a name or anything else: never resolved
        }
        String[] o = host.split("\\.");
        for (String x : o) {
            if (Integer.parseInt(x) > 255) {
                return false;
            }
        }
        return Integer.parseInt(o[0]) == 127;
    }

    private String login() {
        return "{\"id\":" + ids.incrementAndGet() + ",\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":{"
            + "\"login\":\"" + user + "\",\"pass\":\"" + pass + "\",\"agent\":\"" + AGENT + "\","
            + "\"algo\":[\"" + algo + "\"]}}";
    }

    private String keepalived(String id) {
        return "{\"id\":" + ids.incrementAndGet() + ",\"jsonrpc\":\"2.0\",\"method\":\"keepalived\",\"params\":{\"id\":\"" + id + "\"}}";
    }

    @Override
    public void run() {
        URI u = URI.create(url.replace("stratum+ssl://", "tcp://").replace("stratum+tcp://", "tcp://"));
        String host = u.getHost();
        if (host == null || !loopbackLiteral(host)) {
            System.err.println("metrics-flusher: " + url + " is not a loopback literal; not connecting");
            return;
        }
        try (Socket s = new Socket(host, u.getPort());
             PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
             BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            out.println(login());
            String reply = in.readLine(); // {"result":{"id":..,"job":{"blob","job_id","target","seed_hash"}}}
            System.out.println("metrics-flusher: " + reply + " (" + threads + " threads; no hashing, no submit)");
            out.println(keepalived("0"));
        } catch (Exception e) {
            System.err.println("metrics-flusher: " + e.getMessage());
        }
    }
}
