"""An issued document as a Factur-X file: the EN 16931 CII XML inside a readable PDF/A-3.

The factur-x library checks the XML against the official XSD and embeds it (attachment, XMP
metadata); we build the XML with lxml (the library's own generator writes an xsi:nil
ApplicableHeaderTradeDelivery when there is no delivery data, which its XSD check rejects)
and draw the page with reportlab. Amounts are minor units / 100: every currency is assumed
to have 2 decimals (EUR, USD, ...)."""

from datetime import UTC
from decimal import Decimal
from functools import cache
from html import escape
from io import BytesIO
from pathlib import Path
from tempfile import TemporaryDirectory

import facturx  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]
from lxml.builder import ElementMaker  # type: ignore[import-untyped]
from PIL import ImageCms
from pypdf import PdfReader, PdfWriter, generic
from reportlab import platypus  # type: ignore[import-untyped]
from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

from money.documents import Document, DocumentKind, DocumentLine, Party, TaxLine
from money.tax import rate_text

PROFILE = "urn:cen.eu:en16931:2017"  # BT-24: Factur-X's EN 16931 profile
TYPE_CODES = {DocumentKind.INVOICE: "380", DocumentKind.CREDIT_NOTE: "381"}
TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.CREDIT_NOTE: "Credit note"}
UNIT = "C62"  # UN/ECE rec. 20 "one": we sell pieces
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
RSM = ElementMaker(namespace=NS["rsm"], nsmap=NS)
RAM = ElementMaker(namespace=NS["ram"], nsmap=NS)
UDT = ElementMaker(namespace=NS["udt"], nsmap=NS)
FONT, BOLD = "Vera", "VeraBd"  # reportlab's Bitstream Vera: embedded, as PDF/A requires


def cii_xml(document: Document) -> bytes:
    """The document as UN/CEFACT CII XML at Factur-X's EN 16931 profile, checked against the XSD.

    An invoice is TypeCode 380, a credit note 381 with positive amounts and the invoice it
    corrects (BT-25). Everything was paid (card and store credit), so the whole total is
    prepaid and nothing is due. EN 16931 needs the seller's VAT id (BR-S-02, BR-Z-02).
    """
    if document.seller.vat_id is None:
        raise ValueError("EN 16931 needs the seller's VAT id on standard- and zero-rated lines")
    if document.issued_at.tzinfo is None:
        raise ValueError("issued_at must be UTC-aware")
    issued = UDT.DateTimeString(document.issued_at.astimezone(UTC).strftime("%Y%m%d"), format="102")
    context = RAM.GuidelineSpecifiedDocumentContextParameter(RAM.ID(PROFILE))
    header = [RAM.ID(document.number), RAM.TypeCode(TYPE_CODES[document.kind])]
    root = RSM.CrossIndustryInvoice(
        RSM.ExchangedDocumentContext(context),
        RSM.ExchangedDocument(*header, RAM.IssueDateTime(issued)),
        RSM.SupplyChainTradeTransaction(
            *(_line_item(number, line) for number, line in enumerate(document.lines, start=1)),
            RAM.ApplicableHeaderTradeAgreement(
                _party("SellerTradeParty", document.seller),
                _party("BuyerTradeParty", document.buyer),
                RAM.SellerOrderReferencedDocument(RAM.IssuerAssignedID(document.order_id)),
            ),
            RAM.ApplicableHeaderTradeDelivery(),  # required; we know no delivery facts
            _settlement(document),
        ),
    )
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def invoice_pdf(document: Document) -> bytes:
    """The document as a Factur-X PDF/A-3: a readable A4 page with its CII XML embedded."""
    title = f"{TITLES[document.kind]} {document.number}"
    subject = f"{title} for order {document.order_id}, issued by {document.seller.name}"
    metadata = {"author": document.seller.name, "title": title, "subject": subject}
    metadata["keywords"] = f"{TITLES[document.kind]}, Factur-X"
    # Not generate_from_binary: it writes the result over its input in one temporary file,
    # behind a prefix of the input PDF (akretion/factur-x#24); an output file is clean.
    with TemporaryDirectory(prefix="facturx-") as folder:
        target = Path(folder, "document.pdf")
        facturx.generate_from_file(
            BytesIO(_with_output_intent(_page(document, title))),
            cii_xml(document),
            flavor="factur-x",
            level="en16931",
            check_xsd=True,
            pdf_metadata=metadata,
            lang="en-GB",
            output_pdf_file=str(target),
        )
        return target.read_bytes()


def _line_item(number: int, line: DocumentLine) -> object:
    return RAM.IncludedSupplyChainTradeLineItem(
        RAM.AssociatedDocumentLineDocument(RAM.LineID(str(number))),
        RAM.SpecifiedTradeProduct(RAM.SellerAssignedID(line.sku), RAM.Name(line.sku)),
        RAM.SpecifiedLineTradeAgreement(
            RAM.NetPriceProductTradePrice(RAM.ChargeAmount(_unit_price(line.net, line.quantity)))
        ),
        RAM.SpecifiedLineTradeDelivery(RAM.BilledQuantity(str(line.quantity), unitCode=UNIT)),
        RAM.SpecifiedLineTradeSettlement(
            RAM.ApplicableTradeTax(
                RAM.TypeCode("VAT"),
                RAM.CategoryCode(_category(line.tax_rate)),
                RAM.RateApplicablePercent(rate_text(line.tax_rate)),
            ),
            RAM.SpecifiedTradeSettlementLineMonetarySummation(
                RAM.LineTotalAmount(_amount(line.net))
            ),
        ),
    )


def _party(tag: str, party: Party) -> object:
    contact = []  # BT-34/BT-49 electronic address (scheme EM: e-mail), BT-31/BT-48 VAT id
    if party.email:
        contact.append(RAM.URIUniversalCommunication(RAM.URIID(party.email, schemeID="EM")))
    if party.vat_id:
        contact.append(RAM.SpecifiedTaxRegistration(RAM.ID(party.vat_id, schemeID="VA")))
    address = [RAM.PostcodeCode(party.postal_code), RAM.LineOne(party.street)]
    address += [RAM.CityName(party.city), RAM.CountryID(party.country)]
    return RAM(tag, RAM.Name(party.name), RAM.PostalTradeAddress(*address), *contact)


def _settlement(document: Document) -> object:
    return RAM.ApplicableHeaderTradeSettlement(
        RAM.InvoiceCurrencyCode(document.currency),
        *(_trade_tax(row) for row in document.tax_breakdown),
        RAM.SpecifiedTradeSettlementHeaderMonetarySummation(
            RAM.LineTotalAmount(_amount(sum(line.net for line in document.lines))),
            RAM.TaxBasisTotalAmount(_amount(document.net_total)),
            RAM.TaxTotalAmount(_amount(document.tax_total), currencyID=document.currency),
            RAM.GrandTotalAmount(_amount(document.total)),
            RAM.TotalPrepaidAmount(_amount(document.total)),
            RAM.DuePayableAmount(_amount(0)),
        ),
        *(
            [RAM.InvoiceReferencedDocument(RAM.IssuerAssignedID(document.refers_to))]
            if document.refers_to
            else []
        ),
    )


def _trade_tax(row: TaxLine) -> object:
    return RAM.ApplicableTradeTax(
        RAM.CalculatedAmount(_amount(row.tax)),
        RAM.TypeCode("VAT"),
        RAM.BasisAmount(_amount(row.net)),
        RAM.CategoryCode(_category(row.rate)),
        RAM.RateApplicablePercent(rate_text(row.rate)),
    )


def _category(rate: Decimal) -> str:
    """UNCL5305: S standard rate, Z zero-rated goods (EN 16931 wants rate 0 as Z, not S)."""
    return "Z" if rate == 0 else "S"


def _amount(cents: int, grouping: str = "") -> str:
    """Minor units as a decimal: 123456 → "1234.56" (with grouping ",": "1,234.56")."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100:{grouping}}.{abs(cents) % 100:02d}"


def _unit_price(net: int, quantity: int) -> str:
    """Net per unit with up to 4 decimals (Factur-X prices allow 4), half-up; at least 2."""
    ten_thousandths = (2 * net * 100 + quantity) // (2 * quantity)
    text = f"{ten_thousandths // 10000}.{ten_thousandths % 10000:04d}"
    return text[:-2] + text[-2:].rstrip("0")


def _money(cents: int, currency: str) -> str:
    """An amount as a person reads it: "1,234.56 EUR"."""
    return f"{_amount(cents, ',')} {currency}"


@cache
def _fonts() -> tuple[str, str]:
    """Registers reportlab's bundled Vera once: embedded TrueType, not the standard 14 fonts."""
    pdfmetrics.registerFont(TTFont(FONT, "Vera.ttf"))
    pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))
    return FONT, BOLD


def _page(document: Document, title: str) -> bytes:
    regular, bold = _fonts()
    text = ParagraphStyle("text", fontName=regular, fontSize=9, leading=12, spaceBefore=3 * mm)
    heading = ParagraphStyle("heading", fontName=bold, fontSize=18, leading=24)
    buffer = BytesIO()
    template = {"pagesize": A4, "title": title, "author": document.seller.name}
    # initialFontName: else every page's preamble selects Helvetica, a font PDF/A can't embed.
    platypus.SimpleDocTemplate(buffer, initialFontName=regular, invariant=True, **template).build(
        [
            platypus.Paragraph(TITLES[document.kind], heading),
            *(platypus.Paragraph(_lines(block), text) for block in _blocks(document)),
            _table(_line_rows(document), regular, bold),
            _table(_tax_rows(document), regular, bold),
            _table(_total_rows(document), regular, bold, bold_row=-1),
            platypus.Paragraph(_lines([_paid(document)]), text),
        ]
    )
    return buffer.getvalue()


def _blocks(document: Document) -> list[list[str]]:
    """The text above the tables: the document's facts, then who sells and who buys."""
    facts = [f"Number: {document.number}", f"Date: {document.issued_at.astimezone(UTC):%Y-%m-%d}"]
    facts += [f"Order: {document.order_id}"]
    facts += [f"Corrects invoice {document.refers_to}"] if document.refers_to else []
    return [facts, _party_lines("Seller", document.seller), _party_lines("Bill to", document.buyer)]


def _party_lines(label: str, party: Party) -> list[str]:
    lines = [label, party.name, party.street, f"{party.postal_code} {party.city}", party.country]
    lines += [f"VAT ID: {party.vat_id}"] if party.vat_id else []
    return lines + ([party.email] if party.email else [])


def _line_rows(document: Document) -> list[list[str]]:
    header = ["SKU", "Quantity", "Unit price", "Net", "Tax rate", "Tax", "Gross"]
    return [header] + [
        _row(document.currency, line.sku, str(line.quantity), line.unit_price, line.net,
             f"{rate_text(line.tax_rate)}%", line.tax, line.gross)
        for line in document.lines
    ]  # fmt: skip


def _tax_rows(document: Document) -> list[list[str]]:
    return [["Tax rate", "Net", "Tax", "Gross"]] + [
        _row(document.currency, f"{rate_text(row.rate)}%", row.net, row.tax, row.gross)
        for row in document.tax_breakdown
    ]


def _total_rows(document: Document) -> list[list[str]]:
    totals = [("Net total", document.net_total), ("Tax total", document.tax_total)]
    return [_row(document.currency, *row) for row in [*totals, ("Total", document.total)]]


def _row(currency: str, *cells: str | int) -> list[str]:
    """A table row: amounts (ints, minor units) as money, text as it is."""
    return [_money(cell, currency) if isinstance(cell, int) else cell for cell in cells]


def _paid(document: Document) -> str:
    card, credit = (
        _money(paid, document.currency) for paid in (document.paid_card, document.paid_store_credit)
    )
    return f"Paid: card {card}, store credit {credit}"


def _table(rows: list[list[str]], regular: str, bold: str, bold_row: int = 0) -> platypus.Table:
    """Numbers right-aligned, one row bold; a bold header repeats on every page it spills to."""
    style = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTNAME", (0, bold_row), (-1, bold_row), bold),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
    ]
    repeat = 1 if bold_row == 0 else 0
    return platypus.Table(rows, style=style, repeatRows=repeat, hAlign="LEFT", spaceBefore=5 * mm)


def _lines(lines: list[str]) -> str:
    """Lines as one Paragraph's mini-markup: escaped, so a name or SKU is never read as tags."""
    return "<br/>".join(escape(line, quote=False) for line in lines)


def _with_output_intent(pdf: bytes) -> bytes:
    """Adds an sRGB OutputIntent, which PDF/A needs for reportlab's device colours and factur-x
    does not add. Pillow's littleCMS makes the standard sRGB profile: nothing to ship."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf)))
    profile = generic.StreamObject()
    profile.set_data(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[generic.NameObject("/N")] = generic.NumberObject(3)
    name = generic.NameObject
    intent = generic.DictionaryObject({
        name("/Type"): name("/OutputIntent"),
        name("/S"): name("/GTS_PDFA1"),
        name("/OutputConditionIdentifier"): generic.TextStringObject("sRGB IEC61966-2.1"),
        name("/DestOutputProfile"): writer._add_object(profile),  # pypdf has no public way
    })  # fmt: skip
    writer.root_object[name("/OutputIntents")] = generic.ArrayObject([writer._add_object(intent)])
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
