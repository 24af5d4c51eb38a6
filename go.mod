module github.com/wasmbox/wasmbox

go 1.26.0

require (
	connectrpc.com/connect v1.21.1
	github.com/evanw/esbuild v0.28.2
	github.com/spf13/afero v1.15.0
	github.com/stretchr/testify v1.11.1
	github.com/tetratelabs/wazero v1.12.0
	golang.org/x/sys v0.44.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/davecgh/go-spew v1.1.1 // indirect
	github.com/pmezard/go-difflib v1.0.0 // indirect
	golang.org/x/text v0.28.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
