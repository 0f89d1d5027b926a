#!/usr/bin/env python3
"""Worst-case stack depth of the firmware example, from its reset entry point `_start`.

An upper bound from static analysis of the linked thumbv7em binary (no run on a board):

- frame of each function: LLVM's own figure from the `.stack_sizes` section of the object
  (`-Z emit-stack-sizes`, nightly); for the few functions without one (compiler-builtins, which
  ship precompiled) the prologue is read: `push`, `vpush`, `sub sp`;
- call edges: every `bl`/`blx`/`b.w` to a function symbol (tail calls are counted as calls,
  which can only overestimate);
- an indirect call (`blx rN`) may reach any function whose address is stored in the code or the
  read-only data (the address-taken functions: vtables, function pointers);
- panic paths end in the panic handler's endless loop and are counted as leaves;
- recursion, if any, is reported (and the cycle is cut).

Usage (from the repository root):

    RUSTFLAGS="-Z emit-stack-sizes" cargo +nightly rustc --release \
        --target thumbv7em-none-eabihf --manifest-path examples/firmware/Cargo.toml -- --emit=obj,link
    python3 examples/firmware/stack_depth.py \
        target/thumbv7em-none-eabihf/release/zoho-oauth-firmware-example \
        target/thumbv7em-none-eabihf/release/deps/zoho_oauth_firmware_example-*.o [ROOT]

Needs `llvm-objdump`, `llvm-objcopy`, `llvm-readobj` and `llvm-cxxfilt` on the PATH.
"""
import collections
import re
import struct
import subprocess
import sys
import tempfile


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def register_count(registers):
    n = 0
    for part in registers.split(","):
        part = part.strip()
        m = re.match(r"[rd](\d+)\s*-\s*[rd](\d+)", part)
        n += (int(m.group(2)) - int(m.group(1)) + 1) if m else (1 if part else 0)
    return n


def prologue_frame(lines):
    """Bytes a function's prologue reserves: pushes and `sub sp` before its first branch."""
    total, constants = 0, {}
    for line in lines[:40]:
        ins = line.split("\t", 1)[1].strip() if "\t" in line else line.strip()
        if m := re.match(r"push(\.w)?\s+\{([^}]*)\}", ins):
            total += 4 * register_count(m.group(2))
        elif m := re.match(r"vpush\s+\{([^}]*)\}", ins):
            total += 8 * register_count(m.group(1))
        elif m := re.match(r"(movw|mov\.w|movs|mov)\s+(r\d+),\s+#(\d+)", ins):
            constants[m.group(2)] = int(m.group(3))
        elif m := re.match(r"movt\s+(r\d+),\s+#(\d+)", ins):
            constants[m.group(1)] = constants.get(m.group(1), 0) + (int(m.group(2)) << 16)
        elif m := re.match(r"sub(w|\.w|s)?\s+sp,\s*(sp,\s*)?#(\d+)", ins):
            total += int(m.group(3))
        elif m := re.match(r"sub(\.w)?\s+sp,\s*(sp,\s*)?(r\d+)", ins):
            total += constants.get(m.group(3), 0)
        elif re.match(r"(bl|blx|bx|pop|b\.w|b)\s", ins):
            break
    return total


def main():
    binary, objects = sys.argv[1], [a for a in sys.argv[2:] if a.endswith(".o")]
    roots = [a for a in sys.argv[2:] if not a.endswith(".o")]

    functions, address, current = collections.OrderedDict(), {}, None
    for line in run("llvm-objdump", "-d", "--no-show-raw-insn", binary).splitlines():
        if m := re.match(r"^([0-9a-f]+) <(.+)>:$", line):
            current = m.group(2)
            functions[current], address[current] = [], int(m.group(1), 16)
        elif current and re.match(r"^\s+[0-9a-f]+:", line):
            functions[current].append(line)

    frame, source = {}, {}
    for name, lines in functions.items():
        frame[name], source[name] = prologue_frame(lines), "prologue"
    for obj in objects:
        text = run("llvm-readobj", "--stack-sizes", obj)
        for m in re.finditer(r"Functions: \[([^\]]*)\]\s*\n\s*Size: (0x[0-9A-Fa-f]+)", text):
            for name in m.group(1).split(", "):
                if name in frame:
                    frame[name], source[name] = int(m.group(2), 16), "llvm"

    loaded = b""
    with tempfile.NamedTemporaryFile() as tmp:
        for section in (".text", ".rodata"):
            subprocess.run(["llvm-objcopy", "-O", "binary", f"--only-section={section}", binary,
                            tmp.name], check=True)
            loaded += open(tmp.name, "rb").read()
    words = {struct.unpack_from("<I", loaded, i)[0] for i in range(0, len(loaded) - 3, 2)}
    taken = {f for f, a in address.items() if (a | 1) in words and f != "_start"}

    calls, indirect = collections.defaultdict(set), set()
    for name, lines in functions.items():
        for line in lines:
            m = re.search(r"\t(bl|blx|b\.w|b)\s+0x[0-9a-f]+ <([^>+]+)(\+0x[0-9a-f]+)?>", line)
            if m and m.group(2) != name and not m.group(3):
                calls[name].add(m.group(2))
            elif re.search(r"\tblx\s+r\d", line):
                indirect.add(name)

    def is_panic(name):
        return any(k in name for k in ("panic", "_fail", "unwrap_failed", "expect_failed"))

    memo, cycles = {}, set()

    def worst(name, path=()):
        if name in path:
            cycles.add(name)
            return 0, []
        if is_panic(name):
            return frame.get(name, 0), [name]
        if name not in memo:
            best = (0, [])
            for callee in calls[name] | (taken if name in indirect else set()):
                depth = worst(callee, path + (name,))
                if depth[0] > best[0]:
                    best = depth
            memo[name] = (frame.get(name, 0) + best[0], [name] + best[1])
        return memo[name]

    demangled = dict(zip(functions, run("llvm-cxxfilt", *functions).splitlines()))

    def pretty(name):
        return re.sub(r"\[[0-9a-f]+\]|::h[0-9a-f]{16}$", "", demangled.get(name, name))

    for root in roots or ["_start"]:
        start = root if root in functions else next(f for f in functions if root in pretty(f))
        depth, path = worst(start)
        print(f"worst-case stack from {pretty(start)}: {depth} bytes")
        for name in path:
            print(f"  {frame.get(name, 0):6}  ({source.get(name, '?')})  {pretty(name)}")
    print("recursion:", ", ".join(sorted(map(pretty, cycles))) or "none")
    print(f"indirect calls in {len(indirect)} functions, resolved to {len(taken)} address-taken"
          " functions")
    print("largest frames:")
    for size, name in sorted(((v, k) for k, v in frame.items()), reverse=True)[:6]:
        print(f"  {size:6}  {pretty(name)}")


if __name__ == "__main__":
    main()
