package vfs_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/afero"

	"github.com/wasmbox/wasmbox/vfs"
)

func Example() {
	ctx := context.Background()
	data := afero.NewMemMapFs()
	_ = afero.WriteFile(data, "/prices.csv", []byte("item,price\ntea,3\n"), 0o644)

	fsys, err := vfs.New(vfs.NewMemFS(),
		vfs.WithMount("/mnt/data", data, true), // read-only
		vfs.WithMaxBytes(1<<20),
		vfs.WithHome("/home/user"))
	if err != nil {
		panic(err)
	}
	defer fsys.Close()

	if _, err := fsys.WriteBytes(ctx, "notes/today.txt", []byte("hello")); err != nil {
		panic(err)
	}
	entries, _ := fsys.List(ctx, "/", 3)
	for _, e := range entries {
		fmt.Println(e.Permissions, e.Path)
	}
	_, err = fsys.WriteBytes(ctx, "/mnt/data/prices.csv", nil)
	fmt.Println(errors.Is(err, vfs.ErrPermission))
	_, err = fsys.WriteBytes(ctx, "/home/user/big.bin", make([]byte, 2<<20))
	fmt.Println(errors.Is(err, vfs.ErrQuota))
	// Output:
	// drwxr-xr-x /home
	// drwxr-xr-x /home/user
	// drwxr-xr-x /home/user/notes
	// drwxr-xr-x /mnt
	// drwxr-xr-x /mnt/data
	// -rw-r--r-- /mnt/data/prices.csv
	// true
	// true
}

func ExampleFS_WatchDir() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fsys, _ := vfs.New(vfs.NewMemFS())
	defer fsys.Close()

	events := make(chan vfs.FilesystemEvent, 10)
	if _, err := fsys.WatchDir(ctx, "/", false, func(e vfs.FilesystemEvent) { events <- e }); err != nil {
		panic(err)
	}
	_, _ = fsys.WriteBytes(ctx, "/out.txt", []byte("x"))
	fmt.Println(<-events)
	fmt.Println(<-events)
	// Output:
	// {out.txt create}
	// {out.txt write}
}
