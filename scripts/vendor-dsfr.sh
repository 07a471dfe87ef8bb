#!/usr/bin/env bash
# Re-vendor a minimal subset of the French State design system (DSFR,
# npm package @gouvfr/dsfr) into crates/web/assets/vendor/dsfr/.
#
# Usage: scripts/vendor-dsfr.sh [VERSION]          (default: 1.15.3)
#   DSFR_ICON_CATEGORIES="system arrows ..."  icon folders copied whole
#                                              ("all" copies every folder)
#
# Only the npm registry is contacted (npm pack). The script is idempotent:
# the destination folder is wiped and rebuilt from the package tarball.
set -euo pipefail

cd "$(dirname "$0")/.."

VERSION="${1:-1.15.3}"
ICON_CATEGORIES="${DSFR_ICON_CATEGORIES:-system arrows buildings map document user business}"
DEST="crates/web/assets/vendor/dsfr"

command -v npm >/dev/null || { echo "vendor-dsfr: npm is required" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== fetching @gouvfr/dsfr@$VERSION"
(cd "$tmp" && npm pack --silent "@gouvfr/dsfr@$VERSION" >/dev/null)
tar -xzf "$tmp"/gouvfr-dsfr-*.tgz -C "$tmp"
src="$tmp/package/dist"
got="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$tmp/package/package.json" | head -n1)"
[ -f "$src/dsfr.min.css" ] || { echo "vendor-dsfr: unexpected package layout (no dist/dsfr.min.css)" >&2; exit 1; }

echo "== copying into $DEST"
rm -rf "$DEST"
mkdir -p "$DEST/utility/icons" "$DEST/fonts" "$DEST/favicon" "$DEST/icons"

cp "$src/dsfr.min.css" "$src/dsfr.module.min.js" "$src/dsfr.nomodule.min.js" "$DEST/"
cp "$src/utility/icons/icons.min.css" "$DEST/utility/icons/"
cp "$src"/fonts/Marianne-*.woff2 "$src"/fonts/Spectral-*.woff2 "$DEST/fonts/"
cp "$src"/favicon/* "$DEST/favicon/"
cp "$tmp/package/LICENSE.md" "$DEST/LICENSE.md"

# Icon folders copied whole.
if [ "$ICON_CATEGORIES" = "all" ]; then
  ICON_CATEGORIES="$(cd "$src/icons" && printf '%s\n' */ | tr -d /)"
fi
for cat in $ICON_CATEGORIES; do
  [ -d "$src/icons/$cat" ] || { echo "vendor-dsfr: no icon folder '$cat'" >&2; exit 1; }
  cp -r "$src/icons/$cat" "$DEST/icons/"
done

# url(...) targets of a CSS file, relative to that file, data: URIs left out.
css_urls() {
  grep -o 'url([^)]*)' "$1" | sed -e 's/^url(//' -e 's/)$//' -e "s/^[\"']//" -e "s/[\"']\$//" \
    | grep -v '^data:' | sed -e 's/[?#].*$//' | sort -u
}

# Every SVG that dsfr.min.css itself references (components such as the
# footer's social links or the alert icons) is copied, whatever its folder.
css_urls "$src/dsfr.min.css" | grep '^icons/' | while read -r rel; do
  mkdir -p "$DEST/$(dirname "$rel")"
  cp "$src/$rel" "$DEST/$rel"
done

echo "== checking url(...) references"
unresolved=0
for css in dsfr.min.css utility/icons/icons.min.css; do
  dir="$(dirname "$DEST/$css")"
  missing="$(css_urls "$DEST/$css" | while read -r rel; do
    [ -e "$dir/$rel" ] || echo "$rel"
  done)"
  total="$(css_urls "$DEST/$css" | wc -l)"
  if [ -z "$missing" ]; then
    echo "   $css: all $total references resolve"
  else
    n="$(printf '%s\n' "$missing" | wc -l)"
    unresolved=$((unresolved + n))
    echo "   $css: $n of $total references not vendored:"
    case "$css" in
      dsfr.min.css) printf '%s\n' "$missing" | sed 's/^/     /' ;;
      *) # icon utility: summarise by icon folder
         printf '%s\n' "$missing" | sed -n 's#^\(\.\./\)*icons/\([^/]*\)/.*#\2#p' | sort | uniq -c \
           | awk '{printf "     icons/%s/: %d icon(s)\n", $2, $1}' ;;
    esac
  fi
done

size="$(du -sh --apparent-size "$DEST" | cut -f1)"
files="$(find "$DEST" -type f | wc -l)"
echo "== done: DSFR $got, $files files, $size in $DEST"
echo "   ($unresolved url(...) reference(s) left out on purpose: .woff fallbacks and unused icon folders)"
