package com.aro.miner;

import java.net.InetAddress;
import java.net.URI;

/**
 * Arionum-style pool miner entry point (inert stand-in).
 *
 * <p>Usage: {@code java -jar arionum-miner.jar pool POOL_URL ADDRESS} or
 * {@code solo NODE PUBLIC_KEY PRIVATE_KEY}. The pool is asked for work with
 * {@code /mine.php?q=info} and shares go back with {@code q=submitNonce};
 * this build refuses every pool that is not a loopback literal before a name
 * is resolved, and has no argon2 hashing code.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || !("pool".equals(args[0]) || "solo".equals(args[0]))) {
            System.err.println("usage: java -jar arionum-miner.jar pool <pool-url> <address>");
            System.exit(1);
        }
        String host = URI.create(args[1]).getHost();
        if (!isLoopbackLiteral(host)) {
            System.err.println("refusing pool " + args[1] + ": this build only talks to loopback");
            System.exit(2);
        }
        PoolClient client = new PoolClient(args[1], args[2], Runtime.getRuntime().availableProcessors());
        System.out.println(client.infoUrl());
    }

    static boolean isLoopbackLiteral(String host) throws Exception {
        if (host == null) return false;
        if (host.equals("localhost")) return true;
        // Only numeric literals are parsed; a name is never looked up.
        if (!host.matches("[0-9.]+") && !host.contains(":")) return false;
        return InetAddress.getByName(host.replaceAll("[\\[\\]]", "")).isLoopbackAddress();
    }
}
