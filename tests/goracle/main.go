// Command goracle answers, for each JSON case on stdin, what net/http.ProxyFromEnvironment
// returns (the Go standard library's vendored golang.org/x/net/http/httpproxy): the oracle
// for regdoctor's port (tests/unit/test_proxy_goracle.py).
//
// Input: one JSON object per line {"env": [[name, value], ...], "url": "..."}.
// Output: one JSON object per line {"proxy": "<URL or empty>", "error": "<text or empty>"}.
// ProxyFromEnvironment reads the environment once per process, so each case runs in a
// child process of its own with exactly that environment.
package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
)

type testCase struct {
	Env [][2]string `json:"env"`
	URL string      `json:"url"`
}

type answer struct {
	Proxy string `json:"proxy"`
	Error string `json:"error"`
	Bad   string `json:"bad_url,omitempty"`
}

func one(c testCase) answer {
	u, err := url.Parse(c.URL)
	if err != nil {
		return answer{Bad: err.Error()}
	}
	p, err := http.ProxyFromEnvironment(&http.Request{URL: u})
	a := answer{}
	if p != nil {
		a.Proxy = p.String()
	}
	if err != nil {
		a.Error = err.Error()
	}
	return a
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-one" {
		var c testCase
		if err := json.NewDecoder(os.Stdin).Decode(&c); err != nil {
			os.Exit(2)
		}
		json.NewEncoder(os.Stdout).Encode(one(c))
		return
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	out := json.NewEncoder(os.Stdout)
	self, _ := os.Executable()
	for in.Scan() {
		var c testCase
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			os.Exit(2)
		}
		env := []string{}
		for _, kv := range c.Env {
			env = append(env, kv[0]+"="+kv[1])
		}
		cmd := exec.Command(self, "-one")
		cmd.Env = env
		stdin, _ := cmd.StdinPipe()
		go func() { json.NewEncoder(stdin).Encode(c); stdin.Close() }()
		res, err := cmd.Output()
		if err != nil {
			os.Exit(3)
		}
		var a answer
		json.Unmarshal(res, &a)
		out.Encode(a)
	}
}
