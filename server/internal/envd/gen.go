// Package envd holds the protobuf definitions of E2B's envd services that
// wasmbox serves, and the Go code generated from them (committed; the build
// never runs protoc).
//
// To regenerate after editing a .proto file (protoc 3.21+ from Debian's
// protobuf-compiler; the plugins at the versions go.mod pins):
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.21.1
//	go generate ./server/internal/envd/
package envd

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --connect-go_out=. --connect-go_opt=paths=source_relative filesystem/filesystem.proto
//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --connect-go_out=. --connect-go_opt=paths=source_relative process/process.proto
