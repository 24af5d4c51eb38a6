package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// The decoding and validation of request bodies is kept apart from the
// handlers, in functions of the body's bytes, so that FuzzRequestDecoding
// can feed them anything.

// executeRequest is the body of POST /execute, as E2B's SDKs send it.
type executeRequest struct {
	Code      *string           `json:"code"`
	ContextID string            `json:"context_id"`
	Language  string            `json:"language"`
	EnvVars   map[string]string `json:"env_vars"`
	// Timeout, in seconds, is wasmbox's addition (E2B's SDKs time cells
	// out on the client side and send none): a cell timeout shorter than
	// the server's. 0 or absent: the server's (WithCellTimeout).
	Timeout *float64 `json:"timeout"`
}

// createContextRequest is the body of POST /contexts.
type createContextRequest struct {
	Language string `json:"language"`
	Cwd      string `json:"cwd"`
}

// execRequest is a validated POST /execute.
type execRequest struct {
	code      string
	contextID string
	language  string
	envVars   map[string]string
	timeout   time.Duration // 0: not given
}

// requestError refuses a request: the status and the message sent back.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) *requestError {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// readBody reads a request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *requestError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		return body, nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, &requestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body too large: the limit is %d bytes", limit)}
	}
	return nil, &requestError{statusOf(clientError(err)), "cannot read request body: " + err.Error()}
}

// decodeJSON decodes a JSON object into v. An empty body is accepted when
// allowEmpty. A body that is not UTF-8 is refused rather than decoded with
// replacement characters: code and paths must arrive as they were sent.
func decodeJSON(body []byte, v any, allowEmpty bool) *requestError {
	if len(bytes.Trim(body, " \t\r\n")) == 0 {
		if allowEmpty {
			return nil
		}
		return badRequest("malformed JSON: the request body is empty")
	}
	if !utf8.Valid(body) {
		return badRequest("malformed JSON: the request body is not valid UTF-8")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Field == "" {
				return badRequest("invalid request: the body must be a JSON object, not %s", typeErr.Value)
			}
			return badRequest("invalid request: field %q must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
		}
		return badRequest("malformed JSON: %v", err)
	}
	return nil
}

// jsonKind names a Go type as the JSON it decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return t.String()
}

// parseExecuteRequest decodes and validates the body of POST /execute.
func parseExecuteRequest(body []byte, maxCodeBytes int) (execRequest, *requestError) {
	var req executeRequest
	if err := decodeJSON(body, &req, false); err != nil {
		return execRequest{}, err
	}
	if req.Code == nil {
		return execRequest{}, badRequest(`invalid request: field "code" is required`)
	}
	if len(*req.Code) > maxCodeBytes {
		return execRequest{}, &requestError{http.StatusRequestEntityTooLarge,
			fmt.Sprintf("code too large: %d bytes, the limit is %d", len(*req.Code), maxCodeBytes)}
	}
	if req.ContextID != "" && req.Language != "" {
		return execRequest{}, badRequest("Only one of context_id or language can be provided")
	}
	for k, v := range req.EnvVars {
		// The sandbox refuses these too, but only once the cell's context
		// is free, which can be after the stream has started.
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return execRequest{}, badRequest("invalid request: environment variable %q: names must be non-empty without '=' or NUL, values without NUL", k)
		}
	}
	out := execRequest{code: *req.Code, contextID: req.ContextID, language: req.Language, envVars: req.EnvVars}
	if req.Timeout != nil {
		secs := *req.Timeout
		if secs < 0 || math.IsNaN(secs) {
			return execRequest{}, badRequest(`invalid request: field "timeout" must be a number of seconds, 0 or more`)
		}
		// Beyond what a Duration holds, the request asks for no bound of
		// its own: the server's applies.
		if secs > 0 && secs < float64(math.MaxInt64)/float64(time.Second) {
			out.timeout = max(time.Duration(secs*float64(time.Second)), 1)
		}
	}
	return out, nil
}

// parseCreateContextRequest decodes the body of POST /contexts (an empty
// body asks for the defaults).
func parseCreateContextRequest(body []byte) (createContextRequest, *requestError) {
	var req createContextRequest
	if err := decodeJSON(body, &req, true); err != nil {
		return createContextRequest{}, err
	}
	return req, nil
}

// cellTimeout is the timeout of a cell whose request asked for requested
// (0: nothing): the server's, unless the request asks for a shorter one.
func (s *Server) cellTimeout(requested time.Duration) time.Duration {
	if requested > 0 && (s.cfg.cellTimeout == 0 || requested < s.cfg.cellTimeout) {
		return requested
	}
	return s.cfg.cellTimeout
}
