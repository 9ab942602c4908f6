// Package multiengine re-implements VirusTotal's method as a baseline:
// several signature engines (per-file SHA-256, ClamAV with a generated
// .hsb/.ndb database, YARA with generated rules) scan every file of every
// layer, and an image is flagged when any engine fires. Signatures are
// learned from the first sighting of a sample, as a vendor would write them
// after seeing it; the engines are the real clamscan and yara programs, run
// once per layer, with per-layer results cached by content.
package multiengine
