# SPDX-License-Identifier: GPL-2.0
# tinytest-results.awk: the outcome of each test in the output of a
# libevent test program built on tinytest (regress), stdout and stderr
# together, at tinytest's default verbosity. Prints "ok NAME", "fail NAME"
# "skip NAME" or "off NAME" (off by default: not run) once per test, in
# the order run, then "summary N M K" with the counts tinytest printed last
# (ok, failed, skipped; tinytest counts an "off" test twice as skipped), or
# "summary none" if it never got there (the program died).
#
# A test starts with "GROUP/NAME: " at the start of a line; what the test
# prints follows, then "OK", "SKIPPED" or "DISABLED" at the end of a line, or
# "[NAME FAILED]" (NAME without the group). "[RETRYING NAME (N)]" takes the
# failure back: the next outcome counts.
function outcome(what) {
	if (cur != "" && !(cur in done)) {
		done[cur] = what
		order[++n] = cur
	}
}
/^[A-Za-z0-9_]+\/[^ :]+: / {
	cur = substr($1, 1, length($1) - 1)
}
/(^|[ :])OK$/ { outcome("ok") }
/(^|[ :])SKIPPED$/ { outcome("skip") }
/^[A-Za-z0-9_]+\/[^ :]+: DISABLED$/ { outcome("off") }
/\[[^ ]+ FAILED\]$/ { outcome("fail") }
/\[RETRYING [^ ]+ \([0-9]+\)\]$/ {
	if (cur in done) {
		delete done[cur]
		for (i = 1; i <= n; i++)
			if (order[i] == cur)
				order[i] = ""
	}
}
/^[0-9]+ tests ok\.  \([0-9]+ skipped\)$/ {
	summary = $1 " 0 " substr($4, 2)
}
/^[0-9]+\/[0-9]+ TESTS FAILED\. \([0-9]+ skipped\)$/ {
	split($1, f, "/")
	summary = (f[2] - f[1]) " " f[1] " " substr($4, 2)
}
END {
	for (i = 1; i <= n; i++)
		if (order[i] != "")
			print done[order[i]], order[i]
	print "summary", (summary == "" ? "none" : summary)
}
