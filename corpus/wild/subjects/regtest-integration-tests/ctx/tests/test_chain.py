import unittest

import harness


class Chain(unittest.TestCase):
    def test_regtest_chain(self):
        info = harness.proxy().call("getblockchaininfo")
        self.assertEqual(info["chain"], "regtest")

    def test_tip_header(self):
        node = harness.proxy()
        tip = node.call("getbestblockhash")
        header = node.call("getblockheader", tip)
        self.assertEqual(header["hash"], tip)


if __name__ == "__main__":
    unittest.main()
