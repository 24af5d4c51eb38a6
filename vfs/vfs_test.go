package vfs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWritePastMaxFileSize(t *testing.T) {
	assert.NoError(t, checkWriteEnd(0, 10))
	assert.NoError(t, checkWriteEnd(MaxFileSize-10, 10))
	for _, c := range []struct {
		pos int64
		n   int
	}{{MaxFileSize - 9, 10}, {1<<63 - 1, 2}, {-1, 1}} {
		err := checkWriteEnd(c.pos, c.n)
		assert.ErrorIs(t, err, ErrQuota, "%d+%d", c.pos, c.n)
	}
}
