package census

// listsUnderTest are the lists TestSplitIsTheDraw re-derives.
var listsUnderTest = []string{Debian, Python, NPM}
