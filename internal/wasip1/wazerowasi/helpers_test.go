package wazerowasi_test

import (
	"crypto/rand"

	"github.com/spf13/afero"
)

func randRead(p []byte) (int, error) { return rand.Read(p) }

func osDir(dir string) afero.Fs { return afero.NewBasePathFs(afero.NewOsFs(), dir) }
