#!/bin/sh
set -e

base=/srv/git

# Create the repositories named in GIT_REPOS once; an existing one is left
# alone (it may come from a mounted volume).
for repo in ${GIT_REPOS:-}; do
	case "$repo" in
		*/*|.*) echo "skipping invalid repository name: $repo" >&2; continue ;;
	esac
	case "$repo" in
		*.git) ;;
		*) repo="$repo.git" ;;
	esac
	if [ ! -d "$base/$repo" ]; then
		echo "creating $base/$repo"
		git init --quiet --bare --shared=group "$base/$repo"
		git --git-dir="$base/$repo" config --file "$base/$repo/config" include.path /etc/gitconfig-daemon
		touch "$base/$repo/git-daemon-export-ok"
	fi
done

if [ "$(id -u)" = 0 ]; then
	chown -R git:git "$base"
	if [ "$1" = git ]; then
		exec setpriv --reuid=git --regid=git --init-groups "$@"
	fi
fi

exec "$@"
