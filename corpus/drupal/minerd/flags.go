package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// programName is what cpuminer-multi calls itself in messages (PROGRAM_NAME).
const programName = "minerd"

// Sentinels for the two informational exits (-h and -V), so run can print
// and return success instead of treating them as usage errors.
var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
)

// usageError is a command-line problem; cpuminer prints it with a hint to
// --help and exits with status 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// config is the parsed command line, with cpuminer's defaults.
type config struct {
	Algo         string
	URL          string
	User         string
	Pass         string
	Cert         string
	Proxy        string
	Threads      int
	Retries      int
	RetryPause   int
	Timeout      int
	Scantime     int
	Background   bool
	Quiet        bool
	Debug        bool
	ProtocolDump bool
	Syslog       bool
	NoStratum    bool
	NoLongpoll   bool
	NoRedirect   bool
	Benchmark    bool
	ConfigFiles  []string
}

func defaultConfig() config {
	// cpuminer's defaults: scrypt, retry forever every 30 s, 270 s network
	// timeout, 5 s scan time; threads = number of CPUs (0 here, resolved later).
	return config{Algo: "scrypt", Retries: -1, RetryPause: 30, Timeout: 270, Scantime: 5}
}

// option mirrors one entry of cpuminer's getopt_long table.
type option struct {
	short  byte // 0 when the option has no short form
	long   string
	hasArg bool
	set    func(c *config, v string) error
}

func intArg(name string, min int, dst func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			return usagef("%s: invalid %s '%s'", programName, name, v)
		}
		*dst(c) = n
		return nil
	}
}

func flag(dst func(*config) *bool) func(*config, string) error {
	return func(c *config, _ string) error { *dst(c) = true; return nil }
}

// options is filled in init because -c's handler looks options up again
// (a config file names long options), which a plain initializer would make
// an initialization cycle.
var options []option

func init() {
	options = []option{
		{'a', "algo", true, setAlgo},
		{'B', "background", false, flag(func(c *config) *bool { return &c.Background })},
		{0, "benchmark", false, flag(func(c *config) *bool { return &c.Benchmark })},
		{'c', "config", true, loadConfigFile},
		{0, "cert", true, func(c *config, v string) error { c.Cert = v; return nil }},
		{'D', "debug", false, flag(func(c *config) *bool { return &c.Debug })},
		{'h', "help", false, func(*config, string) error { return errHelp }},
		{0, "no-longpoll", false, flag(func(c *config) *bool { return &c.NoLongpoll })},
		{0, "no-redirect", false, flag(func(c *config) *bool { return &c.NoRedirect })},
		{0, "no-stratum", false, flag(func(c *config) *bool { return &c.NoStratum })},
		{'O', "userpass", true, setUserpass},
		{'o', "url", true, setURL},
		{'P', "protocol-dump", false, flag(func(c *config) *bool { return &c.ProtocolDump })},
		{'p', "pass", true, func(c *config, v string) error { c.Pass = v; return nil }},
		{'q', "quiet", false, flag(func(c *config) *bool { return &c.Quiet })},
		{'R', "retry-pause", true, intArg("retry-pause", 1, func(c *config) *int { return &c.RetryPause })},
		{'r', "retries", true, intArg("retries", -1, func(c *config) *int { return &c.Retries })},
		{'S', "syslog", false, flag(func(c *config) *bool { return &c.Syslog })},
		{'s', "scantime", true, intArg("scantime", 1, func(c *config) *int { return &c.Scantime })},
		{'T', "timeout", true, intArg("timeout", 1, func(c *config) *int { return &c.Timeout })},
		{'t', "threads", true, intArg("threads", 1, func(c *config) *int { return &c.Threads })},
		{'u', "user", true, func(c *config, v string) error { c.User = v; return nil }},
		{'V', "version", false, func(*config, string) error { return errVersion }},
		{'x', "proxy", true, func(c *config, v string) error { c.Proxy = v; return nil }},
	}
}

func findShort(b byte) *option {
	for i := range options {
		if options[i].short == b {
			return &options[i]
		}
	}
	return nil
}

func findLong(name string) *option {
	for i := range options {
		if options[i].long == name {
			return &options[i]
		}
	}
	return nil
}

// parseArgs parses argv (without the program name) the way getopt_long does
// for cpuminer: clustered short options (-qD), attached or separate
// arguments (-acryptonight, -a cryptonight), --long=value and --long value.
func parseArgs(args []string) (config, error) {
	c := defaultConfig()
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			if i+1 < len(args) {
				return c, usagef("%s: unsupported non-option argument '%s'", programName, args[i+1])
			}
			return c, nil
		case strings.HasPrefix(arg, "--"):
			name, val, hasVal := strings.Cut(arg[2:], "=")
			o := findLong(name)
			if o == nil {
				return c, usagef("%s: unrecognized option '--%s'", programName, name)
			}
			if o.hasArg && !hasVal {
				if i+1 >= len(args) {
					return c, usagef("%s: option '--%s' requires an argument", programName, name)
				}
				i++
				val = args[i]
			} else if !o.hasArg && hasVal {
				return c, usagef("%s: option '--%s' doesn't allow an argument", programName, name)
			}
			if err := o.set(&c, val); err != nil {
				return c, err
			}
		case len(arg) > 1 && arg[0] == '-':
			for j := 1; j < len(arg); j++ {
				o := findShort(arg[j])
				if o == nil {
					return c, usagef("%s: invalid option -- '%c'", programName, arg[j])
				}
				if !o.hasArg {
					if err := o.set(&c, ""); err != nil {
						return c, err
					}
					continue
				}
				val := arg[j+1:]
				if val == "" {
					if i+1 >= len(args) {
						return c, usagef("%s: option requires an argument -- '%c'", programName, arg[j])
					}
					i++
					val = args[i]
				}
				if err := o.set(&c, val); err != nil {
					return c, err
				}
				break
			}
		default:
			return c, usagef("%s: unsupported non-option argument '%s'", programName, arg)
		}
	}
	if c.URL == "" && !c.Benchmark {
		return c, usagef("%s: no URL supplied", programName)
	}
	return c, nil
}

func setAlgo(c *config, v string) error {
	name, n, hasN := strings.Cut(v, ":")
	for _, a := range algorithms {
		if a.name != name {
			continue
		}
		// Only scrypt takes a parameter (scrypt:N, N a power of two > 1).
		if hasN {
			k, err := strconv.Atoi(n)
			if name != "scrypt" || err != nil || k < 2 || k&(k-1) != 0 {
				break
			}
		}
		c.Algo = v
		return nil
	}
	return usagef("%s: unknown algorithm -- '%s'", programName, v)
}

func setURL(c *config, v string) error {
	// cpuminer accepts a bare host:port and assumes http://.
	if !strings.Contains(v, "://") {
		v = "http://" + v
	}
	scheme, _, _ := strings.Cut(v, "://")
	switch scheme {
	case "http", "https", "stratum+tcp", "stratum+tcps", "stratum+ssl":
	default:
		return usagef("%s: unknown protocol -- '%s'", programName, v)
	}
	c.URL = v
	return nil
}

func setUserpass(c *config, v string) error {
	user, pass, ok := strings.Cut(v, ":")
	if !ok {
		return usagef("%s: invalid username:password pair -- '%s'", programName, v)
	}
	c.User, c.Pass = user, pass
	return nil
}

// loadConfigFile applies a cpuminer JSON config: an object whose keys are
// long option names, with string or number values for options that take an
// argument and true for switches. Unknown keys are ignored, as cpuminer does.
func loadConfigFile(c *config, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usagef("%s: JSON decode of %s failed: %v", programName, path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return usagef("%s: JSON decode of %s failed: %v", programName, path, err)
	}
	c.ConfigFiles = append(c.ConfigFiles, path)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Sorted so a config file always applies the same way (maps are unordered).
	sort.Strings(keys)
	for _, k := range keys {
		o := findLong(k)
		if o == nil || o.long == "config" || o.long == "help" || o.long == "version" {
			continue
		}
		var val string
		switch v := m[k].(type) {
		case string:
			val = v
		case float64:
			val = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			if o.hasArg || !v {
				continue
			}
		default:
			return usagef("%s: invalid value for '%s' in %s", programName, k, path)
		}
		if err := o.set(c, val); err != nil {
			return err
		}
	}
	return nil
}
