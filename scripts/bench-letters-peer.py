#!/usr/bin/python3
"""Peer benchmark for `cargo bench -p incasso-letters --bench render`: the same one-page payment
reminder (letterhead, window address, reference block, invoice table, payment block; no QR code)
drawn with ReportLab (Debian python3-reportlab), N letters on all cores, printing letters/s.

Usage: /usr/bin/python3 scripts/bench-letters-peer.py [N]   (default 10000)
"""

import io
import multiprocessing as mp
import os
import sys
import time

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, Table, TableStyle
from reportlab.pdfgen import canvas

FONT_DIR = "/usr/share/fonts/truetype/liberation2"


def register_fonts():
    # TrueType fonts embedded (subset), like the Rust letters; ReportLab cannot embed CFF OTF.
    pdfmetrics.registerFont(TTFont("Sans", os.path.join(FONT_DIR, "LiberationSans-Regular.ttf")))
    pdfmetrics.registerFont(TTFont("Sans-Bold", os.path.join(FONT_DIR, "LiberationSans-Bold.ttf")))


def euro(cents):
    units, rest = divmod(cents, 100)
    s = f"{units:,}".replace(",", ".")
    return f"€ {s},{rest:02d}"


BODY = ParagraphStyle("body", fontName="Sans", fontSize=9.5, leading=12, alignment=4)


def letter(i):
    amount1 = 123456 + i
    total = amount1 + 30000
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    w, h = A4
    c.setFont("Sans-Bold", 15)
    c.drawRightString(w - 20 * mm, h - 22 * mm, "Bakkerij De Vries B.V.")
    c.setFont("Sans", 8)
    for n, line in enumerate(["Marktplein 1", "3511 AB Utrecht", "030 123 45 67"]):
        c.drawRightString(w - 20 * mm, h - 28 * mm - n * 10, line)
    c.setFont("Sans", 6.5)
    c.drawString(25 * mm, h - 60 * mm, "Bakkerij De Vries B.V. · Marktplein 1 · 3511 AB Utrecht")
    c.setFont("Sans", 10)
    for n, line in enumerate([f"Debiteur {i}", "Dorpsstraat 12", "1234 AB Amsterdam"]):
        c.drawString(25 * mm, h - 66 * mm - n * 12, line)
    c.setFont("Sans", 8.5)
    for n, (k, v) in enumerate([("Datum", "3 december 2026"), ("Ons kenmerk", f"D-{i:06d}"),
                                 ("Dossier", str(i)), ("Betalingskenmerk", f"7000 0000 {i // 10000:04d} {i % 10000:04d}")]):
        c.drawString(125 * mm, h - 50 * mm - n * 11, k)
        c.drawString(150 * mm, h - 50 * mm - n * 11, v)
    c.setFont("Sans-Bold", 11.5)
    c.drawString(25 * mm, h - 100 * mm, "Betalingsherinnering")
    y = h - 108 * mm
    for text in ["Geachte heer/mevrouw,",
                 "Volgens onze administratie hebben wij de betaling van onderstaande facturen nog niet "
                 "ontvangen. Mogelijk is dit aan uw aandacht ontsnapt."]:
        p = Paragraph(text, BODY)
        _, ph = p.wrap(165 * mm, 50 * mm)
        p.drawOn(c, 25 * mm, y - ph)
        y -= ph + 6
    rows = [["Factuur", "Factuurdatum", "Vervaldatum", "Bedrag", "Betaald", "Openstaand"],
            ["F2026-0101", "01-09-2026", "01-10-2026", euro(amount1), euro(0), euro(amount1)],
            ["F2026-0117", "15-09-2026", "15-10-2026", euro(50000), euro(20000), euro(30000)],
            ["Totaal", "", "", euro(amount1 + 50000), euro(20000), euro(total)]]
    t = Table(rows, colWidths=[32 * mm, 25 * mm, 25 * mm, 27 * mm, 27 * mm, 29 * mm])
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "Sans", 8.5),
        ("FONT", (0, 0), (-1, 0), "Sans-Bold", 8.5),
        ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.89, 0.89, 0.89)),
        ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, colors.Color(0.97, 0.97, 0.97)]),
        ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.grey),
    ]))
    _, th = t.wrap(165 * mm, 100 * mm)
    t.drawOn(c, 25 * mm, y - th)
    y -= th + 10
    p = Paragraph(f"Wij verzoeken u het openstaande bedrag van <b>{euro(total)}</b> uiterlijk op "
                  "<b>21 december 2026</b> over te maken onder vermelding van het betalingskenmerk.", BODY)
    _, ph = p.wrap(165 * mm, 50 * mm)
    p.drawOn(c, 25 * mm, y - ph)
    y -= ph + 10
    c.setStrokeColor(colors.Color(0.12, 0.23, 0.37))
    c.roundRect(25 * mm, y - 40 * mm, 165 * mm, 40 * mm, 2)
    c.setFont("Sans-Bold", 9.5)
    c.drawString(29 * mm, y - 7 * mm, "Zo betaalt u")
    c.setFont("Sans", 9)
    for n, (k, v) in enumerate([("Bedrag", euro(total)), ("Ten name van", "Bakkerij De Vries B.V."),
                                ("IBAN", "NL91 ABNA 0417 1643 00"), ("BIC", "ABNANL2A"),
                                ("Kenmerk", f"7000 0000 {i // 10000:04d} {i % 10000:04d}"),
                                ("Uiterlijk op", "21 december 2026")]):
        c.drawString(29 * mm, y - 13 * mm - n * 11, k)
        c.drawString(55 * mm, y - 13 * mm - n * 11, v)
    c.setFont("Sans", 7)
    c.drawString(25 * mm, 18 * mm, "Bakkerij De Vries B.V. · Marktplein 1 · 3511 AB Utrecht · KvK 12345678 · "
                 "btw-nr. NL123456789B01 · IBAN NL91 ABNA 0417 1643 00")
    c.drawRightString(w - 20 * mm, 14 * mm, "Pagina 1 van 1")
    c.showPage()
    c.save()
    return len(buf.getvalue())


def work(args):
    start, stop = args
    register_fonts()
    return sum(letter(i) for i in range(start, stop))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    cores = os.cpu_count() or 1
    register_fonts()
    letter(0)  # warm up
    chunks = [(k * n // cores, (k + 1) * n // cores) for k in range(cores)]
    t0 = time.perf_counter()
    with mp.Pool(cores) as pool:
        total_bytes = sum(pool.map(work, chunks))
    secs = time.perf_counter() - t0
    print(f"reportlab peer: {n} one-page letters without QR code on {cores} processes in {secs:.2f} s "
          f"= {n / secs:.0f} letters/s ({total_bytes // n // 1024} KB per PDF)")


if __name__ == "__main__":
    main()
