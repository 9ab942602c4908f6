package com.example.inventory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/** Stock levels by SKU, persisted as "sku,qty" lines. */
final class Inventory {
    private final Path file;
    private final Map<String, Integer> stock = new ConcurrentSkipListMap<>();

    private Inventory(Path file) {
        this.file = file;
    }

    static Inventory load(Path file) throws IOException {
        Inventory inv = new Inventory(file);
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.split(",", 2);
                if (f.length == 2 && !f[0].isBlank()) {
                    inv.stock.put(f[0].trim(), Integer.parseInt(f[1].trim()));
                }
            }
        }
        return inv;
    }

    Integer get(String sku) {
        return stock.get(sku);
    }

    void put(String sku, int qty) {
        stock.put(sku, qty);
    }

    String toJson() {
        StringBuilder sb = new StringBuilder("[");
        stock.forEach((k, v) -> sb.append(sb.length() > 1 ? "," : "").append("{\"sku\":\"").append(k).append("\",\"qty\":").append(v).append('}'));
        return sb.append(']').toString();
    }

    void save() {
        List<String> lines = new ArrayList<>();
        stock.forEach((k, v) -> lines.add(k + "," + v));
        try {
            Files.write(file, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
