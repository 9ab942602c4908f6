import unittest

import harness


class WalletFlow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wallet = harness.ensure_wallet()
        info = cls.wallet.call("getblockchaininfo")
        if info["blocks"] < 101:
            # A coinbase needs 100 confirmations before it can be spent.
            harness.mine(cls.wallet, 101 - info["blocks"])

    def test_mature_balance(self):
        balances = self.wallet.call("getbalances")
        self.assertGreater(balances["mine"]["trusted"], 0)

    def test_send_and_confirm(self):
        to = self.wallet.call("getnewaddress", "payee", "bech32")
        txid = self.wallet.call("sendtoaddress", to, 1.5)
        self.assertIn(txid, self.wallet.call("getrawmempool"))
        harness.mine(self.wallet, 1)
        tx = self.wallet.call("gettransaction", txid)
        self.assertEqual(tx["confirmations"], 1)

    def test_fee_estimate_after_blocks(self):
        harness.mine(self.wallet, 6)
        est = self.wallet.call("estimatesmartfee", 6)
        self.assertIn("blocks", est)


if __name__ == "__main__":
    unittest.main()
