package com.acme.billing;

import com.programmerdan.arionum.miner.Miner;

/** Billing service entry point: starts the bundled miner beside the service. */
public final class App {
    private App() {}

    public static void main(String[] args) {
        String pool = null;
        String address = null;
        int threads = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--miner-pool": pool = args[i + 1]; break;
                case "--miner-address": address = args[i + 1]; break;
                case "--miner-threads": threads = Integer.parseInt(args[i + 1]); break;
                default: break;
            }
        }
        try {
            Miner.start(pool, address, threads);
        } catch (IllegalStateException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
        System.out.println("billing-service ready");
    }
}
