package com.example.inventory;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.Executors;

/** Inventory service: GET /items, GET /items/{sku}, POST /items/{sku}?qty=N, GET /actuator/health. */
public final class App {
    public static void main(String[] args) throws IOException {
        Properties props = new Properties();
        try (InputStream in = App.class.getResourceAsStream("/application.properties")) {
            if (in != null) {
                props.load(in);
            }
        }
        int port = Integer.parseInt(env("SERVER_PORT", props.getProperty("server.port", "8080")));
        Path data = Path.of(env("INVENTORY_DATA", props.getProperty("inventory.data", "inventory.csv")));
        Inventory inventory = Inventory.load(data);

        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.setExecutor(Executors.newFixedThreadPool(Integer.parseInt(props.getProperty("server.threads", "8"))));
        server.createContext("/actuator/health", ex -> reply(ex, 200, "{\"status\":\"UP\"}"));
        server.createContext("/items", ex -> handleItems(ex, inventory));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop(2);
            inventory.save();
        }));
        server.start();
        System.out.printf("inventory %s listening on :%d%n", props.getProperty("app.version", "dev"), port);
    }

    private static void handleItems(HttpExchange ex, Inventory inv) throws IOException {
        String path = ex.getRequestURI().getPath();
        String sku = path.length() > "/items/".length() ? path.substring("/items/".length()) : "";
        switch (ex.getRequestMethod()) {
            case "GET" -> {
                if (sku.isEmpty()) {
                    reply(ex, 200, inv.toJson());
                } else {
                    Integer qty = inv.get(sku);
                    reply(ex, qty == null ? 404 : 200, qty == null ? "{\"error\":\"unknown sku\"}" : "{\"sku\":\"" + sku + "\",\"qty\":" + qty + "}");
                }
            }
            case "POST" -> {
                String q = ex.getRequestURI().getQuery();
                if (sku.isEmpty() || q == null || !q.startsWith("qty=")) {
                    reply(ex, 400, "{\"error\":\"POST /items/{sku}?qty=N\"}");
                    return;
                }
                inv.put(sku, Integer.parseInt(q.substring(4)));
                reply(ex, 204, "");
            }
            default -> reply(ex, 405, "{\"error\":\"method not allowed\"}");
        }
    }

    static void reply(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    private static String env(String name, String def) {
        String v = System.getenv(name);
        return v == null || v.isEmpty() ? def : v;
    }
}
