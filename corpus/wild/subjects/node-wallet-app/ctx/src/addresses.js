'use strict';
// Receive addresses for a watch-only wallet: BIP84 (native segwit) from the
// account xpub for Bitcoin, and the checksummed account address for Ethereum.

function loadLibs() {
  // Loaded lazily so that `node --check` and the health endpoint work
  // before CI has vendored node_modules.
  const bitcoin = require('bitcoinjs-lib');
  const ecc = require('tiny-secp256k1');
  const { BIP32Factory } = require('bip32');
  const { ethers } = require('ethers');
  bitcoin.initEccLib(ecc);
  return { bitcoin, bip32: BIP32Factory(ecc), ethers };
}

function network(bitcoin, name) {
  return name === 'mainnet' ? bitcoin.networks.bitcoin : bitcoin.networks.testnet;
}

function bitcoinReceiveAddress(xpub, index, netName) {
  const { bitcoin, bip32 } = loadLibs();
  const net = network(bitcoin, netName);
  const node = bip32.fromBase58(xpub, net).derive(0).derive(index);
  return bitcoin.payments.p2wpkh({ pubkey: node.publicKey, network: net }).address;
}

function ethereumAddress(xpub, index) {
  const { ethers } = loadLibs();
  const account = ethers.HDNodeWallet.fromExtendedKey(xpub).deriveChild(0).deriveChild(index);
  return ethers.getAddress(account.address);
}

module.exports = { bitcoinReceiveAddress, ethereumAddress };
