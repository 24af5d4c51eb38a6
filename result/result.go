// Package result is the shared vocabulary of wasmbox: what running a cell
// produces. The types mirror the E2B Code Interpreter SDK (Execution, Result,
// Logs, ExecutionError, OutputMessage) and marshal to JSON exactly as E2B's
// code-interpreter server sends them, so results can be handed to E2B clients
// unchanged.
package result

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
)

// Execution is the outcome of one cell: every result it produced (display
// calls and the main result, in order), its logs, the error raised by user
// code if any, and the context's execution count after the cell.
//
// An error raised by user code is not a Go error: it is Error. A Go error from
// RunCode means the cell could not be run at all.
type Execution struct {
	Results        []Result        `json:"results"`
	Logs           Logs            `json:"logs"`
	Error          *ExecutionError `json:"error"`
	ExecutionCount int             `json:"execution_count"`
}

// Text returns the text of the main result (the value of the cell's trailing
// expression) as E2B's SDKs give it (Result.Text: a string's value without
// its quotes), or "" when the cell produced none. The interpreter's own
// representation is the main result's Repr (see MainResult).
func (e *Execution) Text() string {
	if e == nil {
		return ""
	}
	for _, r := range e.Results {
		if r.IsMainResult {
			return r.Text
		}
	}
	return ""
}

// MainResult returns the main result and true, or a zero Result and false.
func (e *Execution) MainResult() (Result, bool) {
	if e != nil {
		for _, r := range e.Results {
			if r.IsMainResult {
				return r, true
			}
		}
	}
	return Result{}, false
}

// Logs holds what the cell wrote to stdout and stderr, one entry per line
// (each keeps its trailing newline; a last line without one is flushed as is).
type Logs struct {
	Stdout []string `json:"stdout"`
	Stderr []string `json:"stderr"`
}

// ExecutionError is an error raised by user code: its class name (e.g.
// "ZeroDivisionError"), its message and the formatted traceback.
type ExecutionError struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	Traceback string `json:"traceback"`
}

// Error implements the error interface so an ExecutionError can be returned
// or wrapped where a Go error is wanted; RunCode itself never does that.
func (e *ExecutionError) Error() string { return e.Name + ": " + e.Value }

// OutputMessage is one chunk of stdout or stderr as it was streamed.
type OutputMessage struct {
	Line      string `json:"line"`
	Timestamp int64  `json:"timestamp"` // Unix time in nanoseconds
	Error     bool   `json:"error"`     // true for stderr
}

// MIME types of the formats Result names; everything else lands in Extra.
const (
	MIMEText       = "text/plain"
	MIMEHTML       = "text/html"
	MIMEMarkdown   = "text/markdown"
	MIMESVG        = "image/svg+xml"
	MIMEPNG        = "image/png"
	MIMEJPEG       = "image/jpeg"
	MIMEPDF        = "application/pdf"
	MIMELaTeX      = "text/latex"
	MIMEJSON       = "application/json"
	MIMEJavaScript = "application/javascript"
	MIMEData       = "e2b/data"
	MIMEChart      = "e2b/chart"
)

// Result is one displayed value: a MIME bundle. The main result (the value of
// the cell's trailing expression) always has Text; display() results may have
// any subset of formats. Binary formats (PNG, JPEG, PDF) are base64 encoded.
//
// Text is the bundle's text/plain as E2B gives it, Repr as the interpreter
// produced it: E2B's server removes one pair of enclosing quotes, single or
// double, from every text/plain, so the string 'hi' has the Text hi and the
// Repr 'hi' (Python's repr, Node's util.inspect), while 42 is 42 in both.
// FromBundle sets both; only Text is part of the JSON.
//
// JSON and the values in Extra are decoded JSON (maps, slices, float64,
// string, bool, nil) when the guest sent them, except values over 1 MiB
// (languages.MaxDecodedJSON), which are kept as json.RawMessage so that a
// cell cannot make the host hold many times its result limit; they marshal
// back to the same JSON. Data and Chart too large to decode land in Extra
// under their MIME type.
type Result struct {
	Text       string         `json:"text,omitempty"`
	HTML       string         `json:"html,omitempty"`
	Markdown   string         `json:"markdown,omitempty"`
	SVG        string         `json:"svg,omitempty"`
	PNG        string         `json:"png,omitempty"`
	JPEG       string         `json:"jpeg,omitempty"`
	PDF        string         `json:"pdf,omitempty"`
	LaTeX      string         `json:"latex,omitempty"`
	JSON       any            `json:"json,omitempty"`
	JavaScript string         `json:"javascript,omitempty"`
	Data       map[string]any `json:"data,omitempty"`
	Chart      map[string]any `json:"chart,omitempty"`
	Extra      map[string]any `json:"extra,omitempty"`
	// IsMainResult is true for the value of the cell's trailing expression.
	IsMainResult bool `json:"is_main_result"`
	// Repr is the text/plain representation as the interpreter produced it,
	// quotes included ("'hi'"), for the host program: it is not sent on the
	// wire, which has only Text (E2B's SDKs never see the repr), and it is
	// empty in a Result decoded from JSON.
	Repr string `json:"-"`
}

// plainResult is Result without its MarshalJSON.
type plainResult Result

// MarshalJSON encodes the result as E2B's code-interpreter server sends it
// (without the event's "type"): the formats present and is_main_result,
// with "text": "" when the quote stripping left nothing of a Repr (that of
// an empty string). <, > and & are not escaped here; an encoder that escapes
// HTML, such as json.Marshal, still does.
func (r Result) MarshalJSON() ([]byte, error) {
	var v any = plainResult(r)
	if r.Text == "" && r.Repr != "" {
		v = struct {
			Text string `json:"text"`
			plainResult
		}{"", plainResult(r)}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// e2bText is the text E2B's server makes of a text/plain representation:
// without one pair of enclosing single or double quotes (a lone quote
// gives ""). This is the only place wasmbox strips them.
func e2bText(repr string) string {
	if repr == "" {
		return ""
	}
	if q := repr[0]; (q == '\'' || q == '"') && repr[len(repr)-1] == q {
		if len(repr) < 2 {
			return ""
		}
		return repr[1 : len(repr)-1]
	}
	return repr
}

// Formats lists the formats present in r, in E2B's order ("text", "html",
// "markdown", "svg", "png", "jpeg", "pdf", "latex", "json", "javascript",
// "data", "chart"), followed by the MIME types in Extra, sorted.
func (r Result) Formats() []string {
	var f []string
	add := func(ok bool, name string) {
		if ok {
			f = append(f, name)
		}
	}
	add(r.Text != "", "text")
	add(r.HTML != "", "html")
	add(r.Markdown != "", "markdown")
	add(r.SVG != "", "svg")
	add(r.PNG != "", "png")
	add(r.JPEG != "", "jpeg")
	add(r.PDF != "", "pdf")
	add(r.LaTeX != "", "latex")
	add(r.JSON != nil, "json")
	add(r.JavaScript != "", "javascript")
	add(len(r.Data) > 0, "data")
	add(len(r.Chart) > 0, "chart")
	extra := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	return append(f, extra...)
}

// FromBundle builds a Result from a MIME bundle ({"text/plain": ..., ...}).
// Known MIME types fill the named fields; others go to Extra. text/plain
// sets Repr, and Text without its enclosing quotes, as E2B's server does.
func FromBundle(bundle map[string]any, isMain bool) Result {
	r := Result{IsMainResult: isMain}
	for mime, v := range bundle {
		s, isStr := v.(string)
		switch mime {
		case MIMEText:
			r.Repr = str(v, s, isStr)
			r.Text = e2bText(r.Repr)
		case MIMEHTML:
			r.HTML = str(v, s, isStr)
		case MIMEMarkdown:
			r.Markdown = str(v, s, isStr)
		case MIMESVG:
			r.SVG = str(v, s, isStr)
		case MIMEPNG:
			r.PNG = strings.TrimSpace(str(v, s, isStr))
		case MIMEJPEG:
			r.JPEG = strings.TrimSpace(str(v, s, isStr))
		case MIMEPDF:
			r.PDF = strings.TrimSpace(str(v, s, isStr))
		case MIMELaTeX:
			r.LaTeX = str(v, s, isStr)
		case MIMEJSON:
			r.JSON = v
		case MIMEJavaScript:
			r.JavaScript = str(v, s, isStr)
		case MIMEData, MIMEChart:
			m, ok := v.(map[string]any)
			switch {
			case ok && mime == MIMEData:
				r.Data = m
			case ok:
				r.Chart = m
			default: // not an object, or too large to decode: kept as is
				if r.Extra == nil {
					r.Extra = map[string]any{}
				}
				r.Extra[mime] = v
			}
		default:
			if r.Extra == nil {
				r.Extra = map[string]any{}
			}
			r.Extra[mime] = v
		}
	}
	return r
}

func str(v any, s string, isStr bool) string {
	if isStr {
		return s
	}
	if v == nil {
		return ""
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// Context describes a code context as E2B's server reports it.
type Context struct {
	ID       string `json:"id"`
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}
