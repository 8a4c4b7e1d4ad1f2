# SPDX-License-Identifier: MIT
# The examples of README.md and of the man pages' EXAMPLES sections, run (tests/docs.sh starts
# this as root in private mount, network and PID namespaces: /etc and /usr are overlays, /run a
# tmpfs, 127.0.0.1 is the namespace's own, nothing started here outlives it).
#
# Blocks: in README.md the fence's info string says what a block is; in a man page, a line
# '.\" docs: INFO' before a '.Bd -literal' block says it (without one, a block starting with
# '{' or '"' is json, one with '$ ' or '# ' prompts is console; anything else must be marked).
#   json [NAME]          a config, or a fragment ("handlers": [...], ...) put into data/config.json
#                        in place of its keys: pdyndns --check must accept it
#   text FILE [NAME]     an address or prefix file FILE, for the config NAME (or every config)
#   console [NAME]       "$ COMMAND" lines (or "# COMMAND" in a man page) and the output shown
#                        under each: run against PowerDNS serving config NAME (default: data/
#                        config.json and its lists), installed in /etc/pdyndns with data/pdns.conf
#                        as /etc/powerdns/pdns.d/pdyndns.conf, on 127.0.0.1:5300, one distributor
#                        thread (as make demo), each block on a fresh pdns. The output shown must
#                        be the output (stdout and stderr); "…" stands for any text in a line, a
#                        line "…" for any lines, and process ids may differ. A command shown
#                        without output must exit 0.
#   ini pdns.conf [NAME] pdns.d lines, with config NAME: pdyndns --check --pdns-config must
#                        accept the pair (with a launch= line, a whole snippet on its own;
#                        without, lines added after data/pdns.conf's)
#   sh recipe-NAME       a production recipe: each line run in order as root, in a copy of the
#                        source tree; "systemctl restart pdns" starts pdns_server as Debian's
#                        pdns.service does (user pdns, its ExecStart); "console recipe-NAME" blocks
#                        then check what it set up
#   sh skip: REASON      not run (REASON says why and what checks it instead)
#   text, or no info     shown output or messages, not run
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import json

src, build = sys.argv[1], sys.argv[2]
PDYNDNS = os.environ.get("PDYNDNS", os.path.join(build, "daemon/pdyndns"))
PDYNCTL = os.environ.get("PDYNCTL", os.path.join(build, "ctl/pdynctl"))
work = sys.argv[3]
only_doc = os.environ.get("DOCS_ONLY")  # e.g. README.md: one document (its config names only)
passes = fails = 0


def ok():
    global passes
    passes += 1


def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True, **kw)


# --- extraction ---------------------------------------------------------------------------
class Block:
    def __init__(self, where, info, text):
        self.where, self.text = where, text
        words = info.split()
        self.kind = words[0] if words else ""
        self.args = words[1:]
        self.info = info


def unroff(line):
    for a, b in (("\\-", "-"), ("\\(dq", '"'), ("\\(aq", "'"), ("\\&", ""), ("\\e", "\\")):
        line = line.replace(a, b)
    return line


def readme_blocks(path):
    blocks, lines = [], open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if m:
            start, info, body = i + 1, m.group(1).strip(), []
            i += 1
            while i < len(lines) and lines[i] != "```":
                body.append(lines[i])
                i += 1
            blocks.append(Block("%s:%d" % (os.path.basename(path), start), info, "\n".join(body) + "\n"))
        i += 1
    return blocks


def man_blocks(path):
    blocks, lines = [], open(path, encoding="utf-8").read().split("\n")
    in_ex, marker = False, None
    i = 0
    while i < len(lines):
        ln = lines[i]
        if ln.startswith(".Sh "):
            in_ex = ln == ".Sh EXAMPLES"
        m = re.match(r'^\.\\" docs: (.*)$', ln)
        if m:
            marker = m.group(1).strip()
        if in_ex and ln.startswith(".Bd -literal"):
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i] != ".Ed":
                body.append(unroff(lines[i]))
                i += 1
            text = "\n".join(body) + "\n"
            info = marker
            if info is None:
                first = text.lstrip()
                if first.startswith("{") or first.startswith('"'):
                    info = "json"
                elif re.match(r"^[$#] ", text):
                    info = "console"
                else:
                    info = "?"
            blocks.append(Block("%s:%d" % (os.path.basename(path), start), info, text))
            marker = None
        i += 1
    return blocks


docs = [("README.md", readme_blocks)] + [("man/" + p, man_blocks) for p in ("pdyndns.8", "pdynctl.8", "pdyndns.json.5")]
blocks = []
for name, fn in docs:
    if only_doc and only_doc != name:
        continue
    blocks += fn(os.path.join(src, name))

# every block is of a known kind
for b in blocks:
    k = b.kind
    if k == "sh" and b.args and b.args[0] == "skip:" and len(b.args) > 1:
        ok()
    elif k == "sh" and b.args and b.args[0].startswith("recipe-"):
        ok()
    elif k in ("json", "console", "text", "") or (k == "ini" and b.args[:1] == ["pdns.conf"]):
        ok()
    else:
        fail("%s: a block of unknown kind %r: mark it (see tests/docs.py)" % (b.where, b.info))

# --- configs ------------------------------------------------------------------------------
files_for = {}  # name ("" for every config) -> {file: text}, as defined so far
configs = {}  # name -> (config text, {file: text})
base = json.load(open(os.path.join(src, "data/config.json")))


def config_of(b):
    t = b.text.strip()
    if t.startswith("{"):
        return json.loads(t)
    frag = json.loads("{" + t.rstrip(",") + "}")
    c = {k: v for k, v in base.items() if k not in frag}
    c.update(frag)
    return c


def referenced(c):
    """(file, qtype or 'prefix') of every file the config names"""
    out = []
    for h in c.get("handlers", []):
        if "file" in h:
            out.append((h["file"], h.get("qtype", "A")))
        for v in h.get("views", []):
            out.append((v["file"], h.get("qtype", "A")))
            if "prefix_file" in v:
                out.append((v["prefix_file"], "prefix"))
    return out


def write_config(d, name, text_files):
    """writes config `name` and its files into d"""
    conf, own = configs[name]
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(conf, f, indent=2)
    default = {"A": "192.0.2.1\n", "AAAA": "2001:db8::1\n", "prefix": "100.64.0.0/10\n"}
    for fn, qt in referenced(conf):
        if os.path.isabs(fn):
            fail("config %r names %s: examples name their files relative to the config" % (name, fn))
            continue
        text = own.get(fn, text_files.get(fn, default[qt]))
        p = os.path.join(d, fn)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


# the files and pdns.conf lines first: a block may show a config's files after the config
for b in blocks:
    if b.kind == "text" and b.args:
        name = b.args[1] if len(b.args) > 1 else ""
        if b.args[0] in files_for.get(name, {}):
            fail("%s: %s shown twice for %r: give one of them a config name" % (b.where, b.args[0], name))
        files_for.setdefault(name, {})[b.args[0]] = b.text
for b in blocks:
    if b.kind == "json":
        name = b.args[0] if b.args else ""
        try:
            c = config_of(b)
        except ValueError as e:
            fail("%s: not JSON: %s" % (b.where, e))
            continue
        configs[name or b.where] = (c, dict(files_for.get(name, {})) if name else {})
        d = os.path.join(work, "json", b.where.replace(":", "-"))
        write_config(d, name or b.where, files_for.get("", {}))
        r = sh([PDYNDNS, "--check", "--config", os.path.join(d, "config.json")])
        if r.returncode == 0:
            ok()
        else:
            fail("%s: pdyndns --check refuses the example:\n%s%s" % (b.where, r.stdout, r.stderr))

# --- the namespace ------------------------------------------------------------------------
def must(cmd):
    r = sh(cmd)
    if r.returncode != 0:
        print("docs: cannot set up the namespace: %s: %s%s" % (cmd, r.stdout, r.stderr))
        sys.exit(1)


ovl = os.path.join(work, "ovl")
os.makedirs(ovl)
must(["ip", "link", "set", "lo", "up"])
must(["mount", "-t", "tmpfs", "tmpfs", ovl])
for top in ("etc", "usr"):
    for sub in ("up", "wk"):
        os.makedirs(os.path.join(ovl, top + "-" + sub))
    must(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=/%s,upperdir=%s/%s-up,workdir=%s/%s-wk"
          % (top, ovl, top, ovl, top), "/" + top])
must(["mount", "-t", "tmpfs", "tmpfs", "/run"])
os.makedirs("/usr/local/bin", exist_ok=True)
for p in (PDYNDNS, PDYNCTL):
    dst = os.path.join("/usr/local/bin", os.path.basename(p))
    if os.path.lexists(dst):
        os.unlink(dst)
    os.symlink(p, dst)
os.makedirs("/etc/powerdns/pdns.d", exist_ok=True)
DEBIAN_PDNS_CONF = "launch=\ninclude-dir=/etc/powerdns/pdns.d\nsecurity-poll-suffix=\n"
LOCAL = ("local-address=127.0.0.1\nlocal-port=5300\ndaemon=no\nguardian=no\ndisable-syslog=yes\n"
         "distributor-threads=1\n")
env = dict(os.environ, PATH="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
    env.pop(k, None)
pdns = None


def stop_pdns():
    global pdns
    if pdns is not None:
        try:
            os.killpg(pdns.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            pdns.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(pdns.pid, signal.SIGKILL)
            pdns.wait()
        pdns = None
        time.sleep(0.2)  # its copies exit at EOF


def start_pdns(argv, port, log):
    global pdns
    pdns = subprocess.Popen(argv, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True, env=env)
    for _ in range(100):
        r = sh(["dig", "+short", "+time=1", "+tries=1", "@127.0.0.1", "-p", str(port), "dyn.example.test", "SOA"])
        if r.stdout.strip() and "Backend launched" in open(log).read():
            return True
        if pdns.poll() is not None:
            break
        time.sleep(0.1)
    print(open(log).read())
    return False


def clean_pdns_d():
    """pdns.d as a fresh pdns-server leaves it (the host's may hold other backends' settings)"""
    for f in os.listdir("/etc/powerdns/pdns.d"):
        os.unlink(os.path.join("/etc/powerdns/pdns.d", f))


def context(name, extra=""):
    """/etc/pdyndns and pdns.d for config `name` ("" for the demo's)"""
    stop_pdns()
    clean_pdns_d()
    shutil.rmtree("/etc/pdyndns", ignore_errors=True)
    shutil.rmtree("/run/pdyndns", ignore_errors=True)
    if name == "":
        shutil.copytree(os.path.join(src, "data"), "/etc/pdyndns",
                        ignore=lambda d, fs: [f for f in fs if not (f == "config.json" or f.endswith(".txt"))])
    else:
        write_config("/etc/pdyndns", name, files_for.get("", {}))
    with open("/etc/powerdns/pdns.conf", "w") as f:
        f.write(DEBIAN_PDNS_CONF)
    with open("/etc/powerdns/pdns.d/pdyndns.conf", "w") as f:
        if re.search(r"(?m)^launch\+?=", extra):  # a whole snippet, on its own
            f.write(extra)
        else:
            f.write(open(os.path.join(src, "data/pdns.conf")).read() + extra)


def norm(text):
    text = re.sub(r"\bpid [0-9]+", "pid N", text)
    text = re.sub(r"pdyndns\.[0-9]+\.sock", "pdyndns.N.sock", text)
    return re.sub(r"(?m)^[0-9]+[ \t]+", "N ", text)


def matches(expected, got):
    pat = ""
    for line in norm(expected).split("\n")[:-1]:
        if line.strip() == "…":
            pat += r"(?:[^\n]*\n)*?"
        else:
            pat += ".*".join(re.escape(p) for p in line.split("…")) + r"\n"
    return re.fullmatch(pat, norm(got)) is not None


def console(b):
    """runs the commands of a console block; compares their output"""
    cmds, cur = [], None
    lines = b.text.split("\n")[:-1]
    i = 0
    while i < len(lines):
        ln = lines[i]
        if re.match(r"^[$#] ", ln):
            cmd = ln[2:]
            while (cmd.endswith("\\") or cmd.endswith("|")) and i + 1 < len(lines):
                i += 1
                cmd += "\n" + lines[i]
            cur = [cmd, ""]
            cmds.append(cur)
        elif cur is not None:
            cur[1] += ln + "\n"
        else:
            fail("%s: output before the first command: %r" % (b.where, ln))
        i += 1
    cwd = os.path.join(work, "cwd")
    os.makedirs(cwd, exist_ok=True)
    for cmd, expected in cmds:
        try:
            r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=cwd, env=env, timeout=60,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            fail("%s: `%s` did not finish within 60 s" % (b.where, cmd))
            continue
        got = r.stdout + r.stderr
        if expected == "":
            if r.returncode == 0:
                ok()
            else:
                fail("%s: `%s` exits %d:\n%s" % (b.where, cmd, r.returncode, got))
        elif matches(expected, got):
            ok()
        else:
            fail("%s: `%s`\n--- the docs show:\n%s--- it printed (exit %d):\n%s" % (b.where, cmd, expected, r.returncode, got))


# console blocks against config contexts
for b in blocks:
    if b.kind != "console" or (b.args and b.args[0].startswith("recipe-")):
        continue
    name = b.args[0] if b.args else ""
    if name and name not in configs:
        fail("%s: no json block named %r before it" % (b.where, name))
        continue
    context(name)
    with open("/etc/powerdns/pdns.d/zz-local.conf", "w") as f:
        f.write(LOCAL)
    if not start_pdns(["pdns_server", "--config-dir=/etc/powerdns"], 5300, os.path.join(work, "pdns.log")):
        fail("%s: pdns_server did not start" % b.where)
        continue
    console(b)
stop_pdns()

# pdns.conf lines, each block after data/pdns.conf's: the pair must pass --check --pdns-config
for b in blocks:
    if b.kind != "ini":
        continue
    name = b.args[1] if len(b.args) > 1 else ""
    if name and name not in configs:
        fail("%s: no json block named %r" % (b.where, name))
        continue
    context(name, b.text)
    r = sh(["pdyndns", "--check", "--config", "/etc/pdyndns/config.json", "--pdns-config", "/etc/powerdns/pdns.conf"], env=env)
    if r.returncode == 0:
        ok()
    else:
        fail("%s: pdyndns --check --pdns-config refuses these lines with config %r:\n%s%s" % (b.where, name, r.stdout, r.stderr))

# --- recipes ------------------------------------------------------------------------------
DEBIAN_PDNS = ["setpriv", "--reuid=pdns", "--regid=pdns", "--init-groups", "--inh-caps=+net_bind_service",
               "--ambient-caps=+net_bind_service", "pdns_server", "--guardian=no", "--daemon=no",
               "--disable-syslog", "--log-timestamp=no", "--write-pid=no"]


def copy_tree(dst):
    r = sh("git -C '%s' ls-files -z --cached --others --exclude-standard" % src)
    if r.returncode == 0:
        os.makedirs(dst)
        for f in r.stdout.split("\0"):
            if f and os.path.exists(os.path.join(src, f)):
                os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
                shutil.copy2(os.path.join(src, f), os.path.join(dst, f), follow_symlinks=False)
    else:  # a dist tree (make distcheck): the sources only
        shutil.copytree(src, dst, symlinks=True)
    sh(["chmod", "-R", "u+w", dst])  # make distcheck's sources are read-only; the recipe builds in the copy


recipes = sorted({b.args[0] for b in blocks if b.kind == "sh" and b.args and b.args[0].startswith("recipe-")})
if only_doc not in (None, "README.md"):
    recipes = []
for rec in recipes:
    stop_pdns()
    shutil.rmtree("/etc/pdyndns", ignore_errors=True)
    shutil.rmtree("/run/pdyndns", ignore_errors=True)
    clean_pdns_d()
    with open("/etc/powerdns/pdns.conf", "w") as f:
        f.write(DEBIAN_PDNS_CONF)
    for p in ("pdyndns", "pdynctl"):
        if os.path.lexists("/usr/local/bin/" + p):
            os.unlink("/usr/local/bin/" + p)  # the recipe installs its own
    tree = os.path.join(work, rec)
    copy_tree(tree)
    good = True
    for b in [b for b in blocks if b.kind == "sh" and b.args[:1] == [rec]]:
        for line in b.text.split("\n"):
            cmd = re.sub(r"\s+#.*$", "", line).strip()
            if not cmd:
                continue
            if cmd == "systemctl restart pdns":
                stop_pdns()
                os.makedirs("/run/pdns", exist_ok=True)
                shutil.chown("/run/pdns", "pdns", "pdns")
                if start_pdns(DEBIAN_PDNS, 53, os.path.join(work, rec + "-pdns.log")):
                    ok()
                else:
                    fail("%s: %s: pdns_server did not start as pdns.service starts it" % (b.where, rec))
                    good = False
                continue
            r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=tree, env=env, timeout=900)
            if r.returncode == 0:
                ok()
            else:
                fail("%s: %s: `%s` exits %d:\n%s" % (b.where, rec, cmd, r.returncode, (r.stdout + r.stderr)[-3000:]))
                good = False
                break
        if not good:
            break
    if good:
        for b in [b for b in blocks if b.kind == "console" and b.args[:1] == [rec]]:
            console(b)
    stop_pdns()

print("docs: %d blocks; %d passed, %d failed" % (len(blocks), passes, fails))
sys.exit(1 if fails else 0)
