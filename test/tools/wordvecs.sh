#!/usr/bin/env bash
# Builds deterministic learned text embeddings (word vectors) for whiplash's
# tests and benchmarks, on a Debian 12 machine, as root:
#
#   bash test/tools/wordvecs.sh SIZE OUTDIR    # SIZE is small, large or docs
#   bash test/tools/wordvecs.sh docs-corpus OUTFILE
#
# small and large are trained on one corpus (an English dictionary) with
# skipgram; docs is a second, independent set: another corpus (technical
# documentation), another fastText model (cbow) and another dimension (128),
# so that benchmarks can be checked on two unrelated embedding sets.
# docs-corpus does steps 1 and 2 of docs only (no fasttext): it writes the
# tokenised docs corpus, one paragraph a line, to OUTFILE, always anew and
# with no stamp; textsets.sh builds text384 from it.
#
# What it does
#   1. Installs, with apt-get, whichever of these is missing: `fasttext`
#      (0.9.2, not for docs-corpus) and the corpus packages (debpkgs.sh,
#      which waits for another apt or dpkg run rather than fail).
#      small, large: `dict-gcide`, the GNU Collaborative International
#      Dictionary of English (Webster 1913 plus WordNet glosses): 14.8 MB
#      to download, 40 MB of plain English text, about 4 million tokens and
#      42,000 distinct words seen 5 times or more.  It is big enough for a
#      25,000+ word vocabulary (the KJV Bible in bible-kjv-text has only
#      about 13,000 distinct words), and each entry puts a word next to the
#      words that define it, so that neighbours are meaningful ("sword" ->
#      dagger, blade, spear).  It pulls in dictd as a dependency; nothing
#      here uses that.
#      docs: four documentation packages, 60 MB to download (290 MB
#      installed), 7.9 million tokens and 27,800 distinct words seen 5 times
#      or more: `linux-doc-6.1` (the kernel's HTML documentation, 37.3 MB,
#      4.3 M tokens), `python3.11-doc` (HTML, 12.6 MB, 1.3 M tokens),
#      `postgresql-doc-15` (HTML, 2.1 MB, 1.0 M tokens) and `perl-doc`
#      (pod, 7.9 MB, 1.2 M tokens).  No single one is big enough: the
#      kernel documentation alone has about 18,000 such words, and all but
#      perl-doc about 24,000.  Neighbours are technical ("mutex" -> lock,
#      rwsem, spinlock; "transaction" -> transactions, rollback,
#      subtransaction; "index" -> indexes, btree, scans).  python3.11-doc
#      pulls in libjs-jquery and libjs-underscore, and perl-doc diverts
#      /usr/bin/perldoc to its own; nothing here uses those.
#   2. Tokenises it with sed, tr and awk in the C locale: text is
#      lower-cased, anything but a-z separates words, words of one letter
#      are dropped, and each paragraph becomes one training line.
#      small, large: pronunciations (\...\), bracketed etymologies and
#      source tags ([1913 Webster]) and "--Author." citations are dropped;
#      a paragraph is a dictionary entry.  `small` keeps one paragraph in
#      4 (about 1 million tokens).
#      docs: HTML pages (files listed by `dpkg -L`, sorted) are cut to
#      their main text -- the kernel's and Python's navigation sidebars,
#      PostgreSQL's navigation header and footer, the indexes, search pages
#      and the kernel's translations are left out -- then block tags (p,
#      div, h1-h6, pre, li, ...) start a paragraph and all other tags and
#      entities become spaces.  perl-doc's .pod files are used as they are
#      (markup like C<...> leaves only one-letter words, which are dropped).
#   3. Trains fastText with `-thread 1 -seed 1`, every parameter fixed and
#      subwords off (-minn 0 -maxn 0, so vectors are pure word vectors);
#      one thread and a fixed seed make fastText's training reproducible,
#      and two runs give byte-identical files:
#        small: skipgram, dim 32,  minCount 30, epoch 5, -t 1e-4 -> 3,482 words
#        large: skipgram, dim 100, minCount 5,  epoch 5, -t 1e-5 -> 42,102 words
#        docs:  cbow,     dim 128, minCount 5,  epoch 5, -t 1e-4 -> 27,773 words
#      (-t is fastText's subsampling of frequent words: 1e-5 makes large
#      train about 40% faster than the default 1e-4; on the small corpus
#      it leaves the vectors untrained, so small keeps 1e-4; docs trains
#      in 81 s with 1e-4, so it keeps it.)
#   4. Writes to OUTDIR:
#        vectors.csv  "word,f1,...,fDIM", no header, sorted by word (C
#                     locale), floats as %.6g; words are [a-z]+ only, so
#                     safe as ids.  Words whose vector is all zeros are
#                     skipped.
#        queries.csv  same format: held-out queries.  Every 20th word of
#                     the sorted vocabulary (the 20th, 40th, ...) is a
#                     query: its vector is the trained one, but the word is
#                     REMOVED from vectors.csv, so no query is in the base
#                     set (its nearest neighbours are other words).
#                     small: 174 queries / 3,308 base; large: 2,105
#                     queries / 39,997 base; docs: 1,388 queries / 26,384
#                     base.  Mean cosine of random pairs (anisotropy):
#                     small 0.26, large 0.51, docs 0.20.
#        .wordvecs.stamp  the parameters and package versions; when it
#                     matches and both files exist the script does nothing.
#
# Measured on this project's 2-core machine: apt-get update and install of
# fasttext and dict-gcide 4 s; small 16 s (training 14 s); large 86-97 s
# (training 77-90 s); install of the four docs packages 12-14 s; docs 88 s
# (tokenising 5 s, training 81 s).  Two runs gave byte-identical files
# (sha256).  Output depends only on this script and the versions of the
# packages, all recorded in the stamp: fasttext 0.9.2+ds-1+b1 and
# dict-gcide 0.48.5+nmu2 for small and large; for docs linux-doc-6.1
# 6.1.192-3, python3.11-doc 3.11.2-6+deb12u9, postgresql-doc-15
# 15.20-0+deb12u1 and perl-doc 5.36.0-7+deb12u4.  Unlike dict-gcide, the
# docs packages get Debian point and security updates (new kernel, Python
# and PostgreSQL minor releases), so docs vectors change, slightly, when
# they are upgraded; the stamp then no longer matches and docs is rebuilt.
set -euo pipefail
export LC_ALL=C

usage() {
    echo "usage: bash test/tools/wordvecs.sh small|large|docs OUTDIR" >&2
    echo "       bash test/tools/wordvecs.sh docs-corpus OUTFILE" >&2
    exit 2
}
(($# == 2)) || usage
size=$1
outdir=$2 # OUTFILE for docs-corpus
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/tools/debpkgs.sh
source "$here/debpkgs.sh"

gcide_pkgs=(dict-gcide)
docs_pkgs=(linux-doc-6.1 python3.11-doc postgresql-doc-15 perl-doc)
case $size in
    small) method=skipgram sample=4 dim=32 min_count=30 epoch=5 subsample=0.0001 ;;
    large) method=skipgram sample=1 dim=100 min_count=5 epoch=5 subsample=0.00001 ;;
    docs | docs-corpus) method=cbow sample=1 dim=128 min_count=5 epoch=5 subsample=0.0001 ;;
    *) usage ;;
esac
if [[ $size == docs* ]]; then
    corpus=docs corpus_pkgs=("${docs_pkgs[@]}")
else
    corpus=gcide corpus_pkgs=("${gcide_pkgs[@]}")
fi
needed=("${corpus_pkgs[@]}")
[[ $size == docs-corpus ]] || needed=(fasttext "${needed[@]}")
query_every=20
seed=1
gcide=/usr/share/dictd/gcide.dict.dz
train_args=(-thread 1 -seed "$seed" -dim "$dim" -minCount "$min_count" -epoch "$epoch"
    -t "$subsample" -lr 0.05 -lrUpdateRate 100 -ws 5 -neg 5 -loss ns
    -minn 0 -maxn 0 -wordNgrams 1 -verbose 0)

say() { echo "== wordvecs ($size): $*"; }
# pkg_files PKG REGEX [EXCLUDE-REGEX]: the package's files matching REGEX
# (and not EXCLUDE-REGEX), sorted, one a line.
pkg_files() {
    dpkg-query -L "$1" | { grep -E "$2" || true; } | { grep -vE "${3:-^$}" || true; } |
        sort -u | while IFS= read -r f; do if [[ -f $f ]]; then printf '%s\n' "$f"; fi; done
}

install_missing "${needed[@]}"

if [[ $corpus == docs ]]; then
    # Each docs package must have its files on disk (a dpkg path-exclude
    # for /usr/share/doc, as in slim Docker images, would drop them).
    kernel_html=$(pkg_files linux-doc-6.1 '/html/.*\.html$' '/html/(translations|_sources)/|/(genindex|search)\.html$')
    python_html=$(pkg_files python3.11-doc '/html/.*\.html$' '/html/_sources/|/(genindex[^/]*|search|py-modindex)\.html$')
    pg_html=$(pkg_files postgresql-doc-15 '/html/.*\.html$' '/bookindex\.html$')
    perl_pod=$(pkg_files perl-doc '\.pod$')
    for v in kernel_html python_html pg_html perl_pod; do
        [[ -n ${!v} ]] || { echo "wordvecs: no files for $v (is /usr/share/doc excluded by dpkg?)" >&2; exit 1; }
    done
else
    [[ -r $gcide ]] || { echo "wordvecs: $gcide not found" >&2; exit 1; }
fi

# gcide_text, docs_text: the corpus as text, paragraphs separated by blank
# lines.
gcide_text() {
    zcat "$gcide" |
        sed -e '1,/Begin file 1 of 26/d' \
            -e 's/\\[^\\]*\\//g' \
            -e 's/\[[^]]*\]//g' \
            -e 's/--[A-Z][A-Za-z]*\.//g'
}
# HTML to text: block tags start a paragraph; other tags and entities are
# spaces.
strip_html() {
    sed -e 's/<\(p\|div\|h[1-6]\|pre\|li\|dt\|dd\|tr\|table\|section\|dl\|ul\|ol\)[ >\/]/\n\n&/g' \
        -e 's/<[^>]*>/ /g' \
        -e 's/&[a-zA-Z]*;/ /g' -e 's/&#[0-9]*;/ /g' -e 's/&#x[0-9a-fA-F]*;/ /g'
}
docs_text() {
    # Sphinx (kernel, Python): only the page body, not the sidebars.
    xargs -d '\n' sed -s -n '/itemprop="articleBody"/,/<footer/p' <<<"$kernel_html" | strip_html
    xargs -d '\n' sed -s -n '/role="main"/,/class="sphinxsidebar"/p' <<<"$python_html" | strip_html
    # DocBook (PostgreSQL): drop the navigation header and footer.
    xargs -d '\n' sed -e 's/<div class="navheader">.*<\/table><hr \/><\/div>//' \
        -e 's/<div class="navfooter">.*//' <<<"$pg_html" | strip_html
    xargs -d '\n' cat <<<"$perl_pod"
}

# tokenise OUTFILE: the corpus, one paragraph a line.
tokenise() {
    say "tokenising ${corpus_pkgs[*]}"
    # ASCII ranges on purpose (C locale): output words are [a-z]+.
    # shellcheck disable=SC2018,SC2019
    if [[ $corpus == docs ]]; then docs_text; else gcide_text; fi |
        tr 'A-Z' 'a-z' |
        tr -cs 'a-z\n' ' ' |
        awk -v k="$sample" 'BEGIN { RS = "" }
            (NR - 1) % k == 0 {
                o = ""; n = 0
                for (i = 1; i <= NF; i++)
                    if (length($i) > 1) { o = o (n ? " " : "") $i; n++ }
                if (n >= 3) print o
            }' >"$1"
    say "corpus: $(wc -l <"$1") paragraphs, $(wc -w <"$1") tokens"
}
if [[ $size == docs-corpus ]]; then
    tokenise "$outdir"
    exit 0
fi

# The stamp of small and large is as it was before docs existed, so that
# their existing outputs stay up to date.
stamp="wordvecs v1 size=$size sample=$sample query_every=$query_every"
stamp+=" fasttext=$(pkg_version fasttext)"
for pkg in "${corpus_pkgs[@]}"; do stamp+=" $pkg=$(pkg_version "$pkg")"; done
[[ $method == skipgram ]] || stamp+=" method=$method"
stamp+=" args=${train_args[*]}"
if [[ -f $outdir/vectors.csv && -f $outdir/queries.csv && -f $outdir/.wordvecs.stamp ]] &&
    [[ $(cat "$outdir/.wordvecs.stamp") == "$stamp" ]]; then
    say "up to date in $outdir"
    exit 0
fi

mkdir -p "$outdir"
work=$(mktemp -d "$outdir/.wordvecs.XXXXXX")
trap 'rm -rf "$work"' EXIT
tokenise "$work/corpus.txt"

say "training fasttext $method (dim $dim, minCount $min_count, epoch $epoch, seed $seed, 1 thread)"
fasttext "$method" -input "$work/corpus.txt" -output "$work/model" "${train_args[@]}"

say "writing vectors.csv and queries.csv"
# model.vec: a "COUNT DIM" line, then "word v1 ... vDIM " lines.
awk -v dim="$dim" 'NR > 1 && $1 ~ /^[a-z]+$/ && NF == dim + 1 {
        line = $1; zero = 1
        for (i = 2; i <= NF; i++) {
            v = sprintf("%.6g", $i)
            if (v + 0 != 0) zero = 0
            line = line "," v
        }
        if (!zero) print line
    }' "$work/model.vec" |
    sort -t, -k1,1 >"$work/all.csv"
awk -v k="$query_every" -v q="$work/queries.csv" -v b="$work/vectors.csv" \
    'NR % k == 0 { print > q; next } { print > b }' "$work/all.csv"
rm -f "$outdir/.wordvecs.stamp"
mv "$work/vectors.csv" "$outdir/vectors.csv"
mv "$work/queries.csv" "$outdir/queries.csv"
printf '%s\n' "$stamp" >"$outdir/.wordvecs.stamp"
say "done: $(wc -l <"$outdir/vectors.csv") base words, $(wc -l <"$outdir/queries.csv") queries, dim $dim in $outdir"
