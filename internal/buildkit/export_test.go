package buildkit

// WaitOrAbandonForTest exposes waitOrAbandon to the external test package.
var WaitOrAbandonForTest = waitOrAbandon
