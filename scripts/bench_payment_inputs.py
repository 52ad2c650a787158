#!/usr/bin/env python3
"""Generates the large payment inputs of the issue 6 benchmarks, byte for byte the files the
Rust benches build in memory (crates/formats/camt/benches/parse.rs and
crates/formats/mt940/benches/parse.rs): a camt.053 with 100,000 entries and an MT940 with
100,000 transactions. Standard library only.

Usage: bench_payment_inputs.py OUT_DIR [ENTRIES]
"""

import os
import sys


def camt053(entries):
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2024-11-30T18:00:00</CreDtTm></GrpHdr><Stmt>"
        "<Id>BENCH-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2024-11-30T18:00:00</CreDtTm>"
        "<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2024-11-29</Dt></Dt></Bal>"
    ]
    total = 100_000
    for i in range(entries):
        cents = 100 + (i * 7919) % 500_000
        credit = i % 3 != 0
        total += cents if credit else -cents
        cd, party, counter = ("CRDT", "Dbtr", "DbtrAcct") if credit else ("DBIT", "Cdtr", "CdtrAcct")
        out.append(
            f'<Ntry><NtryRef>{i}</NtryRef><Amt Ccy="EUR">{cents // 100}.{cents % 100:02}</Amt><CdtDbtInd>{cd}</CdtDbtInd>'
            f"<Sts>BOOK</Sts><BookgDt><Dt>2024-11-30</Dt></BookgDt><ValDt><Dt>2024-11-30</Dt></ValDt>"
            f"<AcctSvcrRef>SVC{i:010}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd>"
            f"<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs>"
            f"<EndToEndId>E2E-{i}</EndToEndId><TxId>TX{i}</TxId></Refs>"
            f"<RltdPties><{party}><Nm>Klant {i} B.V.</Nm></{party}><{counter}><Id>"
            f"<IBAN>NL02ABNA0123456789</IBAN></Id></{counter}></RltdPties>"
            f"<RltdAgts><DbtrAgt><FinInstnId><BIC>ABNANL2A</BIC></FinInstnId></DbtrAgt></RltdAgts>"
            f"<RmtInf><Ustrd>Factuur F-2024-{i:06}</Ustrd><Strd><CdtrRefInf><Tp><CdOrPrtry>"
            f"<Cd>SCOR</Cd></CdOrPrtry><Issr>CUR</Issr></Tp><Ref>{i:016}</Ref></CdtrRefInf></Strd>"
            f"</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    cd, total = ("CRDT", total) if total >= 0 else ("DBIT", -total)
    out.append(
        f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{total // 100}.{total % 100:02}</Amt>'
        f"<CdtDbtInd>{cd}</CdtDbtInd><Dt><Dt>2024-11-30</Dt></Dt></Bal></Stmt></BkToCstmrStmt></Document>"
    )
    return "".join(out)


def mt940(transactions):
    out = [
        "{1:F01INGBNL2ABXXX0000000000}{2:I940INGBNL2AXXXN}{3:{108:B12345678S000001}}{4:\r\n"
        ":20:P240101000009999\r\n:25:NL20INGB0001234567EUR\r\n:28C:1\r\n:60F:C240101EUR1000,00\r\n"
    ]
    total = 100_000
    for i in range(transactions):
        cents = 100 + (i * 7919) % 500_000
        credit = i % 3 != 0
        total += cents if credit else -cents
        mark = "C" if credit else "D"
        out.append(
            f":61:2401020102{mark}{cents // 100},{cents % 100:02}NTRFEREF//{i:014}\r\n/TRCD/00100/\r\n"
            f":86:/EREF/E2E-{i}//CNTP/NL08INGB0000001234/INGBNL2A/Klant {i} B.V./AMSTER\r\n"
            f"DAM//REMI/STRD/CUR/{i:016}/\r\n"
        )
    mark, total = ("C", total) if total >= 0 else ("D", -total)
    out.append(f":62F:{mark}240102EUR{total // 100},{total % 100:02}\r\n-}}\r\n")
    return "".join(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    os.makedirs(out_dir, exist_ok=True)
    for name, text in ((f"camt053-{n}.xml", camt053(n)), (f"mt940-{n}.sta", mt940(n))):
        path = os.path.join(out_dir, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
