#!/usr/bin/env python3
"""Instructions of QEMU's VNC refresh path with and without an overlay (issue 2's callgrind figure).

    qemu-patch/test/callgrind/refresh_cost.py QEMU [SECONDS]

Boots QEMU under valgrind --tool=callgrind with a 512-byte boot sector (boot.s) that rewrites the whole VGA text
screen in a loop, keeps an RFB client asking for updates, and collects instructions only inside vnc_refresh()
(--toggle-collect).  Three runs: no overlay, a translucent 400x200 overlay (alpha 200) and an opaque one.  The VNC
share of a refresh (vnc_refresh minus graphic_hw_update, the VGA emulation drawing the guest screen) is normalised
by graphic_hw_update's instructions, i.e. per unit of guest drawing, since the number of refreshes differs per run.
Prints RESULT lines.
"""
import base64, os, re, socket, struct, subprocess, sys, tempfile, time, json, select

HERE = os.path.dirname(os.path.abspath(__file__))

class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX); self.s.connect(path)
        self.f = self.s.makefile('rw')
        self.f.readline(); self.cmd('qmp_capabilities')
        self.events = []
    def cmd(self, name, **args):
        self.f.write(json.dumps({'execute': name, 'arguments': args}) + '\n'); self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if 'event' in r: self.events.append(r); continue
            return r

class Rfb:
    def __init__(self, port, host='127.0.0.1'):
        s = self.s = socket.create_connection((host, port))
        self.buf = b''
        self.rd(12); s.sendall(b'RFB 003.008\n')
        n = self.rd(1)[0]; types = self.rd(n)
        s.sendall(b'\x01'); assert struct.unpack('>I', self.rd(4))[0] == 0
        s.sendall(b'\x01')
        self.w, self.h = struct.unpack('>HH', self.rd(4)); self.rd(16)
        nl = struct.unpack('>I', self.rd(4))[0]; self.rd(nl)
        s.sendall(struct.pack('>BxxxBBBBHHHBBBxxx', 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        s.sendall(struct.pack('>BxHii', 2, 2, 0, -223))
        self.fb = bytearray(self.w * self.h * 4); self.bytes = 0
    def rd(self, n):
        while len(self.buf) < n:
            d = self.s.recv(1 << 20)
            if not d: raise EOFError
            self.buf += d
        r, self.buf = self.buf[:n], self.buf[n:]
        return r
    def req(self, inc=1):
        self.s.sendall(struct.pack('>BBHHHH', 3, inc, 0, 0, self.w, self.h))
    def read_update(self, timeout=None):
        import select
        if not self.buf:
            r, _, _ = select.select([self.s], [], [], timeout)
            if not r: return None
        t = self.rd(1)
        assert t[0] == 0, t
        self.rd(1); n = struct.unpack('>H', self.rd(2))[0]; rects = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack('>HHHHi', self.rd(12)); self.bytes += 12
            if enc == 0:
                data = self.rd(w*h*4); self.bytes += len(data)
                for r in range(h):
                    o = ((y+r)*self.w + x)*4; self.fb[o:o+w*4] = data[r*w*4:(r+1)*w*4]
            elif enc == -223:
                self.w, self.h = w, h; self.fb = bytearray(w*h*4)
            rects.append((x, y, w, h, enc))
        return rects
    def px(self, x, y):
        o = (y*self.w + x)*4; b, g, r = self.fb[o], self.fb[o+1], self.fb[o+2]; return (r << 16) | (g << 8) | b
    def pointer(self, x, y, m): self.s.sendall(struct.pack('>BBHH', 5, m, x, y))
    def key(self, sym, down): self.s.sendall(struct.pack('>BBxxI', 4, down, sym))


def run(qemu, seconds, alpha, out, workdir):
    port = 5990 + (0 if alpha is None else 1 + alpha % 7)
    sock = os.path.join(workdir, 'qmp-%s.sock' % alpha)
    boot = os.path.join(workdir, 'boot.bin')
    cmd = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--toggle-collect=vnc_refresh',
           '--callgrind-out-file=' + out, qemu, '-machine', 'pc', '-accel', 'tcg', '-m', '64',
           '-nodefaults', '-vga', 'std', '-display', 'none', '-drive', 'file=%s,format=raw,if=ide' % boot,
           '-qmp', 'unix:%s,server=on,wait=off' % sock, '-vnc', '127.0.0.1:%d' % (port - 5900)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(out + '.log', 'w'))
    for _ in range(600):
        if os.path.exists(sock):
            break
        time.sleep(0.5)
    time.sleep(2)
    q = Qmp(sock)
    c = None
    for _ in range(120):
        try:
            c = Rfb(port)
            break
        except OSError:
            time.sleep(1)
    c.req(0)
    c.read_update(600)
    if alpha is not None:
        px = base64.b64encode(bytes([alpha, 255, 255, 255] * (400 * 200))).decode()
        q.cmd('vnc-overlay-add', id='cg', width=400, height=200, pixels=px)
    t_end = time.time() + seconds
    while time.time() < t_end:
        c.req(1)
        c.read_update(5)
    q.cmd('quit')
    p.wait()


def inclusive(out):
    text = subprocess.run(['callgrind_annotate', '--inclusive=yes', out], capture_output=True, text=True).stdout
    cost = {}
    for line in text.splitlines():
        m = re.match(r'^\s*([\d,]+) \(.*\)\s+\S+:(\w+) \[', line)
        if m and m.group(2) not in cost:
            cost[m.group(2)] = int(m.group(1).replace(',', ''))
    return cost


def main():
    qemu = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 60
    workdir = tempfile.mkdtemp(prefix='tmc-cg-')
    subprocess.run(['as', '--32', '-o', workdir + '/boot.o', HERE + '/boot.s'], check=True)
    subprocess.run(['ld', '-m', 'elf_i386', '-Ttext', '0x7c00', '--oformat', 'binary', '-o',
                    workdir + '/boot.bin', workdir + '/boot.o'], check=True)
    share = {}
    for name, alpha in (('none', None), ('translucent', 200), ('opaque', 255)):
        out = os.path.join(workdir, 'callgrind.%s' % name)
        run(qemu, seconds, alpha, out, workdir)
        cost = inclusive(out)
        total, guest = cost['vnc_refresh'], cost['graphic_hw_update']
        share[name] = (total - guest) / guest
        print('RUN %s vnc_refresh=%d graphic_hw_update=%d vnc_per_guest=%.3f (%s)'
              % (name, total, guest, share[name], out))
    for name in ('translucent', 'opaque'):
        print('RESULT callgrind overlay=%s vnc_path_ratio=%.2f refresh_ratio=%.2f'
              % (name, share[name] / share['none'], (1 + share[name]) / (1 + share['none'])))


if __name__ == '__main__':
    main()
