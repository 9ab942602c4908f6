package main

import (
	"context"
	"fmt"
	"io"

	"github.com/strata-sec/strata/corpus/drupal"
	"github.com/strata-sec/strata/internal/loopback"
)

func init() {
	register("corpus", command{
		summary: "show the drupal sample: its cases (list) or one case's Dockerfile (dockerfile BITS)",
		run:     runCorpus,
	})
}

func runCorpus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("corpus", "list | dockerfile BITS", stderr)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return fmt.Errorf("say list or dockerfile BITS")
	}
	switch pos[0] {
	case "list":
		for _, c := range drupal.Cases() {
			label := "benign"
			if c.Malicious() {
				label = "malicious"
			}
			fmt.Fprintf(stdout, "%s  layer8=%v layer9=%v layer10=%v  %s\n", c.Bits(), c.L8, c.L9, c.L10, label)
		}
		return nil
	case "dockerfile":
		if len(pos) != 2 {
			return fmt.Errorf("dockerfile needs the case bits, e.g. 101")
		}
		c, err := drupal.ParseCase(pos[1])
		if err != nil {
			return err
		}
		df, err := drupal.Dockerfile(c, drupal.Options{ServerURL: "http://" + loopback.DefaultAddr})
		if err != nil {
			return err
		}
		_, err = stdout.Write(df)
		return err
	}
	return fmt.Errorf("unknown corpus action %q", pos[0])
}
