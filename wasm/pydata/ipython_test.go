package pydata_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// IPython habits with the data build's packages: %pip answers for them, and
// a notebook's usual first lines run.
func TestIPythonHabitsWithPackages(t *testing.T) {
	sb := newSandbox(t)
	exec := ok(t, sb, "%pip list")
	out := strings.Join(exec.Logs.Stdout, "")
	for _, line := range []string{`numpy\s+2\.3\.5`, `pandas\s+2\.2\.3`, `matplotlib\s+3\.10\.9`,
		`pillow\s+11\.1\.0`, `python-dateutil\s+2\.9\.0`, `pytz\s+2025\.2`, `requests\s+2\.32\.3`, `urllib3\s+2\.3\.0`} {
		assert.Regexp(t, `(?m)^`+line+`$`, out)
	}

	exec = ok(t, sb, "%pip install numpy pandas>=2 matplotlib==3.10.9 pillow\n%pip install pandas<2 scipy")
	assert.Equal(t, []string{
		"Requirement already satisfied: numpy in /usr/local/lib/python3.13/dist-packages (2.3.5)\n",
		"Requirement already satisfied: pandas>=2 in /usr/local/lib/python3.13/dist-packages (2.2.3)\n",
		"Requirement already satisfied: matplotlib==3.10.9 in /usr/local/lib/python3.13/dist-packages (3.10.9)\n",
		"Requirement already satisfied: pillow in /usr/local/lib/python3.13/dist-packages (11.1.0)\n",
	}, exec.Logs.Stdout)
	require.Len(t, exec.Logs.Stderr, 1)
	assert.Contains(t, exec.Logs.Stderr[0], "ERROR: wasmbox cannot install pandas<2, scipy: the sandbox has no network")

	// The first lines of many notebooks, indented as in a template string.
	exec = ok(t, sb, `
        %matplotlib inline
        import numpy as np, matplotlib.pyplot as plt
        %time total = np.arange(10).sum()
        plt.plot(np.arange(3))
        int(total)
    `)
	require.Len(t, exec.Results, 2)
	assert.Equal(t, "45", exec.Results[0].Text)
	assert.NotEmpty(t, exec.Results[1].PNG, "the figure is displayed after the main result")
	assert.Contains(t, exec.Logs.Stdout[0], "CPU times: user ")
}
