package scanreport

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats lists the output formats Write knows.
var Formats = []string{"table", "json", "sarif"}

// CheckFormat reports whether Write knows format.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if f == format {
			return nil
		}
	}
	return fmt.Errorf("unknown --format %q: use one of %s", format, strings.Join(Formats, ", "))
}

// Write renders rep in format: table (WriteTable), json (WriteJSON) or
// sarif (WriteSARIF).
func Write(w io.Writer, rep Report, format string) error {
	switch format {
	case "table":
		return WriteTable(w, rep)
	case "json":
		return WriteJSON(w, rep)
	case "sarif":
		return WriteSARIF(w, rep)
	}
	return CheckFormat(format)
}

// WriteJSON writes rep as one indented JSON document (schema Schema).
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}
