#!/usr/bin/env python3
"""Runs one Python peer of the issue 6 payment benchmarks on the generated inputs and prints
one line: `PEER name seconds items items/s peak-MB` (or `SKIP name reason`). Each peer runs in
its own process (bench-payment-peers.sh starts one per peer) so the peak memory is its own.

Usage: bench_payment_peers.py PEER FILE_OR_COUNT
  PEER: pycamt | lxml | mt940 | sepaxml
"""

import datetime
import resource
import sys
import time


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_pycamt(path):
    from pycamt.parser import Camt053Parser

    parser = Camt053Parser.from_file(path)
    return len(parser.get_transactions())


def run_lxml(path):
    """Streaming: iterparse on Ntry, the fields the import reads, each element cleared."""
    from lxml import etree

    ns = "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}"
    count = 0
    total = 0
    for _, ntry in etree.iterparse(path, events=("end",), tag=f"{ns}Ntry"):
        amt = ntry.findtext(f"{ns}Amt")
        cd = ntry.findtext(f"{ns}CdtDbtInd")
        ntry.findtext(f"{ns}BookgDt/{ns}Dt")
        ntry.findtext(f"{ns}AcctSvcrRef")
        tx = ntry.find(f"{ns}NtryDtls/{ns}TxDtls")
        if tx is not None:
            tx.findtext(f"{ns}Refs/{ns}EndToEndId")
            tx.findtext(f"{ns}RmtInf/{ns}Ustrd")
            tx.findtext(f"{ns}RmtInf/{ns}Strd/{ns}CdtrRefInf/{ns}Ref")
        units, _, frac = amt.partition(".")
        cents = int(units) * 100 + int((frac + "00")[:2])
        total += cents if cd == "CRDT" else -cents
        count += 1
        ntry.clear()
        while ntry.getprevious() is not None:
            del ntry.getparent()[0]
    return count


def run_mt940(path):
    import mt940

    transactions = mt940.parse(path)
    return len(transactions)


def nl_iban(account):
    bban = f"RABO{account:010}"
    digits = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(digits) % 97:02}{bban}"


def run_sepaxml(count):
    """10,000 transactions of the same shape as crates/formats/pain008/benches/write.rs."""
    from sepaxml import SepaDD

    count = int(count)
    config = {
        "name": "Incasso Bench B.V.",
        "IBAN": "NL91ABNA0417164300",
        "BIC": "ABNANL2A",
        "batch": True,
        "creditor_id": "NL98ZZZ999999999999",
        "currency": "EUR",
    }
    sepa = SepaDD(config, schema="pain.008.001.02", clean=True)
    collection = datetime.date(2026, 12, 15)
    for i in range(count):
        sepa.add_payment(
            {
                "name": f"Debiteur Nummer {i}",
                "IBAN": nl_iban(100_000 + i),
                "BIC": "RABONL2U",
                "amount": 100 + (i * 7919) % 500_000,
                "type": "RCUR" if i < count // 2 else "FRST",
                "collection_date": collection,
                "mandate_id": f"MNDT-{i:08}",
                "mandate_date": datetime.date(2023, 5, 1),
                "description": f"Factuur 2025-{i:06} termijn 1 van 3",
                "endtoend_id": f"E2E-{i:08}",
            }
        )
    xml = sepa.export(validate=False)
    assert xml.count(b"<DrctDbtTxInf>") == count, "sepaxml wrote another number of transactions"
    return count


PEERS = {"pycamt": run_pycamt, "lxml": run_lxml, "mt940": run_mt940, "sepaxml": run_sepaxml}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in PEERS:
        sys.exit(__doc__)
    name, arg = sys.argv[1], sys.argv[2]
    try:
        start = time.perf_counter()
        items = PEERS[name](arg)
        seconds = time.perf_counter() - start
    except ImportError as e:
        print(f"SKIP {name} not installed ({e})")
        return
    print(f"PEER {name} {seconds:.3f} {items} {items / seconds:.0f} {peak_mb():.1f}")


if __name__ == "__main__":
    main()
