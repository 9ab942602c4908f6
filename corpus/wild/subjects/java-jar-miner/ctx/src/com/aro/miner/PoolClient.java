package com.aro.miner;

/** Builds the pool's mine.php requests; sends nothing on its own. */
final class PoolClient {
    private final String pool;
    private final String address;
    private final int workers;

    PoolClient(String pool, String address, int workers) {
        this.pool = pool;
        this.address = address;
        this.workers = workers;
    }

    String infoUrl() {
        return pool + "/mine.php?q=info&worker=" + workers + "&address=" + address;
    }

    String submitUrl(String nonce, String argon, long height) {
        return pool + "/mine.php?q=submitNonce&argon=" + argon + "&nonce=" + nonce
                + "&private_key=" + address + "&address=" + address + "&height=" + height;
    }
}
