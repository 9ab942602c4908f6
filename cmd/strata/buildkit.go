package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/strata-sec/strata/internal/buildkit"
)

func init() {
	register("buildkit", command{
		summary: "run a private buildkitd in the foreground (serve) to share between runs, or check a daemon (ping)",
		run:     runBuildkit,
	})
}

func runBuildkit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("buildkit", "serve|ping", stderr)
	cache, _ := os.UserCacheDir()
	state := fs.String("state", filepath.Join(cache, "strata", "buildkit"), "buildkitd state dir (cache, snapshots, socket, log)")
	addr := fs.String("addr", "", "daemon address for ping")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("say serve or ping")
	}
	switch pos[0] {
	case "serve":
		d, err := buildkit.StartDaemon(ctx, buildkit.DaemonConfig{StateDir: *state})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "buildkitd ready at %s (log %s); pass --buildkit-addr %s to strata; Ctrl-C stops it\n", d.Addr, d.LogPath, d.Addr)
		<-ctx.Done()
		return d.Stop()
	case "ping":
		if *addr == "" {
			return fmt.Errorf("ping needs --addr")
		}
		if err := buildkit.Ping(ctx, *addr); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "buildkitd at %s is ready\n", *addr)
		return nil
	}
	return fmt.Errorf("unknown buildkit action %q (serve, ping)", pos[0])
}
