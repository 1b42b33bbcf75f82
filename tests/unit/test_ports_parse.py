"""What listens inside a taskspace, read from the kernel's socket tables as untrusted text."""

from __future__ import annotations

from symposium_tui.core.ports import Listening, parse_listening

TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:08AE 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
   1: 0100007F:223D 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0 100 0 0 10 0
   2: 0100007F:223D 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0 20 4 30 10 -1
"""
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000
   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000
   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000
"""


def test_listening_sockets_of_both_tables_in_port_order_established_ones_left_out():
    found = parse_listening(TCP + TCP6)
    assert found == [Listening(22, "::"), Listening(2222, "0.0.0.0"), Listening(3000, "127.0.0.1"),
                     Listening(8080, "::1"), Listening(8765, "127.0.0.1")]
    assert [p.loopback_only for p in found] == [False, False, True, True, True]
    assert found[1].as_dict() == {"port": 2222, "address": "0.0.0.0", "loopback_only": False, "ours": True}
    assert not found[0].as_dict()["ours"]


def test_lines_not_of_the_kernels_shape_are_skipped():
    hostile = "\n".join([
        "   0: zzzz:0016 00000000:0000 0A", "   1: 0100007F:FFFFF 00000000:0000 0A", "   2: 0100007F:0000 x 0A",
        "   x: 0100007F:0050 00000000:0000 0A", "\x1b[2J 0100007F:0050", "   3: 01007F:0050 00000000:0000 0A",
        "   4: 0100007F:0050 00000000:0000 0A",
    ])
    assert parse_listening(hostile) == [Listening(80, "127.0.0.1")]
    assert parse_listening("") == [] and parse_listening("\n" * 100_000) == []
