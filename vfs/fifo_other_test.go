//go:build !unix || solaris || illumos || aix

package vfs_test

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs") }
