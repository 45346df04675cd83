#!/usr/bin/python3
"""pcapfilter.py IN OUT PORTS_FILE VHOST...: keep the TCP connections of the rig's vhosts.

tcpdump on `lo` port 5672 sees every client of the machine's broker (other tests' vhosts too). A
connection is kept, every packet of it from SYN to FIN, when its client port is listed in
PORTS_FILE (peer ports the management API showed in those vhosts while recording), or when its
Connection.Open names one of VHOST (a connection opened and closed between two polls).
Classic pcap (tcpdump -w), Ethernet (lo) or Linux cooked link types, IPv4.
"""
import struct
import sys

AMQP_PORT = 5672


def packets(data):
    magic = data[:4]
    endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    linktype = struct.unpack(endian + 'I', data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + 'I', data[off + 8:off + 12])[0]
        yield data[off:off + 16 + incl], data[off + 16:off + 16 + incl], linktype
        off += 16 + incl


def tcp(frame, linktype):
    if linktype == 1:
        if frame[12:14] != b'\x08\x00':
            return None
        ip = 14
    elif linktype == 113:
        ip = 16
    else:
        return None
    if len(frame) < ip + 20 or frame[ip] >> 4 != 4 or frame[ip + 9] != 6:
        return None
    t = ip + (frame[ip] & 15) * 4
    sport, dport = struct.unpack('>HH', frame[t:t + 4])
    payload = frame[t + (frame[t + 12] >> 4) * 4:]
    return sport, dport, payload


def main():
    src, dst, ports_file, vhosts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    keep = {int(p) for p in open(ports_file).read().split() if p.isdigit()}
    opens = [b'\x00\x0a\x00\x28' + bytes([len(v.encode())]) + v.encode() for v in vhosts]
    data = open(src, 'rb').read()
    if len(data) < 24:
        open(dst, 'wb').write(data)
        return
    pk = list(packets(data))
    for _, frame, lt in pk:
        t = tcp(frame, lt)
        if t and t[1] == AMQP_PORT and any(o in t[2] for o in opens):
            keep.add(t[0])
    n = 0
    with open(dst, 'wb') as out:
        out.write(data[:24])
        for rec, frame, lt in pk:
            t = tcp(frame, lt)
            if t and (t[0] if t[1] == AMQP_PORT else t[1]) in keep:
                out.write(rec)
                n += 1
    print('[pcapfilter] kept %d of %d packets (%d client ports)' % (n, len(pk), len(keep)), file=sys.stderr)


if __name__ == '__main__':
    main()
