//go:build !unix

package vfs_test

import "errors"

func mkfifo(string) error { return errors.New("no FIFOs") }
