package shell

// builtins are the commands every shell has. The shell's own builtins
// (cd, echo, printf, pwd, export, test, [, true, false, read, set, ...) come
// from the interpreter and are not listed here.
var builtins map[string]Command

func init() {
	builtins = map[string]Command{
		"ls": cmdLs, "cat": cmdCat, "mkdir": cmdMkdir, "rm": cmdRm, "rmdir": cmdRmdir, "cp": cmdCp,
		"mv": cmdMv, "touch": cmdTouch, "chmod": cmdChmod, "find": cmdFind, "du": cmdDu, "tee": cmdTee,
		"head": cmdHead, "tail": cmdTail, "wc": cmdWc, "grep": cmdGrep, "egrep": cmdEgrep, "fgrep": cmdFgrep,
		"sort": cmdSort, "uniq": cmdUniq, "cut": cmdCut, "tr": cmdTr, "sed": cmdSed, "seq": cmdSeq,
		"yes": cmdYes, "base64": cmdBase64, "sha256sum": cmdSha256sum, "sha1sum": cmdSha1sum,
		"sha512sum": cmdSha512sum, "md5sum": cmdMd5sum, "rev": cmdRev, "nl": cmdNl,
		"xargs": cmdXargs, "env": cmdEnv, "printenv": cmdPrintenv, "sleep": cmdSleep, "timeout": cmdTimeout,
		"date": cmdDate, "basename": cmdBasename, "dirname": cmdDirname, "realpath": cmdRealpath,
		"readlink": cmdReadlink, "which": cmdWhich, "whoami": cmdWhoami, "id": cmdID, "hostname": cmdHostname,
		"nproc": cmdNproc, "uname": cmdUname, "mktemp": cmdMktemp, "clear": cmdClear,
		"tar": cmdTar, "gzip": cmdGzip, "gunzip": cmdGzip, "zcat": cmdGzip, "zip": cmdZip, "unzip": cmdUnzip,
		"sh": cmdSh, "bash": cmdSh, "diff": cmdDiff,
	}
}
