"""A Python imaplib session against newsfront, driven by test/integration/imaplib.test.ts.

Usage: imaplib_session.py PORT USER PASSWORD GROUP
Prints one JSON object with what the server answered; the TypeScript test checks it.
"""
import imaplib
import json
import re
import sys

port, user, password, group = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
M = imaplib.IMAP4("127.0.0.1", port)
out["capabilities"] = sorted(M.capabilities)
typ, _ = M.login(user, password)
out["login"] = typ
typ, lines = M.list('""', "*")
out["list"] = [l.decode("utf-8", "replace") for l in lines]
typ, data = M.select(group, readonly=False)
out["select"] = [typ, int(data[0])]
typ, data = M.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
sizes = {}
for item in data:
    line = item.decode() if isinstance(item, bytes) else item[0].decode()
    m = re.search(r"UID (\d+) RFC822.SIZE (\d+)", line) or re.search(r"RFC822.SIZE (\d+) UID (\d+)", line)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if "RFC822.SIZE %d UID" % a in line:
            a, b = b, a
        sizes[a] = b
out["sizes"] = sizes
first = min(sizes)
typ, data = M.uid("FETCH", str(first), "(BODY.PEEK[])")
out["body_len"] = len(data[0][1])
typ, data = M.uid("FETCH", str(first), "(FLAGS)")
out["flags_before"] = data[0].decode()
typ, data = M.uid("STORE", str(first), "+FLAGS", "(\\Flagged)")
out["store"] = typ
typ, data = M.uid("SEARCH", None, "FLAGGED")
out["search_flagged"] = data[0].decode()
# imaplib returns NO as a result (it raises only for BAD); keep the text with the code.
typ, data = M.expunge()
out["expunge_nothing"] = typ
M.uid("STORE", str(first), "+FLAGS", "(\\Deleted)")
typ, data = M.expunge()
out["expunge"] = [typ, data[0].decode() if data and data[0] else ""]
typ, data = M.create("foo.bar")
out["create"] = [typ, data[0].decode() if data and data[0] else ""]
typ, data = M.append(group, None, None, b"Subject: x\r\n\r\nx\r\n")
out["append"] = [typ, data[0].decode() if data and data[0] else ""]
typ, data = M.noop()
out["noop"] = typ
M.close()
M.logout()
print(json.dumps(out))
