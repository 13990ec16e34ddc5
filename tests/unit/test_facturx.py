"""money.facturx: the EN 16931 CII XML (XSD, arithmetic) and the Factur-X PDF/A-3 around it."""

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import facturx  # type: ignore[import-untyped]
import pytest
from lxml import etree  # type: ignore[import-untyped]
from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

from money.documents import (
    Document,
    DocumentKind,
    Draft,
    Party,
    PricedLine,
    draft,
    goodwill_draft,
)
from money.facturx import cii_xml, invoice_pdf

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
SELLER = Party(
    name="Demo Shop GmbH",
    street="Hauptstraße 1",
    postal_code="10115",
    city="Berlin",
    country="DE",
    vat_id="DE123456789",
    email="billing@shop.example",
)
BUYER = Party(
    name="Erika Mustermann",
    street="Heidestraße 17",
    postal_code="51147",
    city="Köln",
    country="DE",
    email="erika@example.com",
)
ORDER = draft(
    [
        PricedLine(sku="LAMP", quantity=1, unit_price=119900, tax_rate=Decimal("19")),
        PricedLine(sku="MUG", quantity=2, unit_price=1999, tax_rate=Decimal("19")),
        PricedLine(sku="BOOK", quantity=1, unit_price=2490, tax_rate=Decimal("7")),
        PricedLine(sku="TEA", quantity=3, unit_price=499, tax_rate=Decimal("7")),
    ]
)
# Odd corners: a unit price that needs 4 decimals (2 cents net over 3), a gross that no net
# reaches at 19% (3 cents: see money.tax), a zero rate and a rate with a decimal.
CORNERS = draft(
    [
        PricedLine(sku="PIN", quantity=3, unit_price=1, tax_rate=Decimal("19")),
        PricedLine(sku="MAP", quantity=7, unit_price=333, tax_rate=Decimal("25.5")),
        PricedLine(sku="GIFT-CARD", quantity=1, unit_price=500, tax_rate=Decimal("0")),
    ]
)


def issued(contents: Draft, *, number: str, refers_to: str | None = None) -> Document:
    kind = DocumentKind.CREDIT_NOTE if refers_to else DocumentKind.INVOICE
    return Document(
        number=number,
        kind=kind,
        order_id="o-7f3a",
        refers_to=refers_to,
        issued_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        currency="EUR",
        seller=SELLER,
        buyer=BUYER,
        lines=contents.lines,
        tax_breakdown=contents.tax_breakdown,
        net_total=contents.net_total,
        tax_total=contents.tax_total,
        total=contents.total,
        paid_card=contents.total - 2000 if contents.total > 2000 else contents.total,
        paid_store_credit=2000 if contents.total > 2000 else 0,
    )


INVOICE = issued(ORDER, number="INV-2026-000001")
CREDIT_NOTE = issued(
    goodwill_draft(1000, ORDER.tax_breakdown), number="CN-2026-000001", refers_to="INV-2026-000001"
)
ODD_INVOICE = issued(CORNERS, number="INV-2026-000002")
DOCUMENTS = [INVOICE, CREDIT_NOTE, ODD_INVOICE]


def numbered(document: Document) -> str:
    return document.number


def parsed(document: Document) -> etree._Element:
    return etree.fromstring(cii_xml(document))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=NS)]


def amounts(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(text) for text in texts(root, path)]


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """Each document's Factur-X PDF, made once: the PDF tests only read them."""
    return {document.number: invoice_pdf(document) for document in DOCUMENTS}


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_the_xml_passes_the_factur_x_en16931_xsd(document: Document) -> None:
    assert facturx.xml_check_xsd(cii_xml(document), flavor="factur-x", level="en16931") is True


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_the_library_reads_the_xml_as_factur_x_at_en16931(document: Document) -> None:
    root = parsed(document)

    assert (facturx.get_flavor(root), facturx.get_level(root)) == ("factur-x", "en16931")
    assert texts(root, "//ram:GuidelineSpecifiedDocumentContextParameter/ram:ID") == [
        "urn:cen.eu:en16931:2017"
    ]


def test_an_invoice_is_type_380_and_refers_to_nothing() -> None:
    root = parsed(INVOICE)

    assert texts(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == ["380"]
    assert texts(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == []


def test_a_credit_note_is_type_381_with_positive_amounts_and_the_invoice_it_corrects() -> None:
    root = parsed(CREDIT_NOTE)

    assert texts(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == ["381"]
    assert texts(root, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID") == [
        "INV-2026-000001"
    ]
    assert amounts(root, "//ram:GrandTotalAmount") == [Decimal("10.00")]
    assert all(amount > 0 for amount in amounts(root, "//ram:LineTotalAmount"))


def test_the_header_carries_number_date_and_the_order() -> None:
    root = parsed(INVOICE)

    assert texts(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == [
        "INV-2026-000001"
    ]
    assert texts(root, "//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == [
        "20260301"
    ]
    assert texts(root, "//ram:SellerOrderReferencedDocument/ram:IssuerAssignedID") == ["o-7f3a"]


def test_seller_and_buyer_carry_name_address_email_and_the_sellers_vat_id() -> None:
    root = parsed(INVOICE)
    seller, buyer = "//ram:SellerTradeParty", "//ram:BuyerTradeParty"

    assert texts(root, f"{seller}/ram:Name") == ["Demo Shop GmbH"]
    assert texts(root, f"{seller}/ram:PostalTradeAddress/*") == [
        "10115", "Hauptstraße 1", "Berlin", "DE"
    ]  # fmt: skip
    assert texts(root, f"{seller}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == [
        "billing@shop.example"
    ]
    assert texts(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == [
        "DE123456789"
    ]
    assert texts(root, f"{buyer}/ram:Name") == ["Erika Mustermann"]
    assert texts(root, f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == ["DE"]
    assert texts(root, f"{buyer}/ram:URIUniversalCommunication/ram:URIID") == ["erika@example.com"]
    assert texts(root, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID") == []


def test_each_line_has_its_sku_quantity_in_pieces_rate_and_net() -> None:
    root = parsed(INVOICE)
    items = "//ram:IncludedSupplyChainTradeLineItem"

    assert texts(root, f"{items}//ram:LineID") == ["1", "2", "3", "4"]
    assert texts(root, f"{items}//ram:SellerAssignedID") == ["LAMP", "MUG", "BOOK", "TEA"]
    assert texts(root, f"{items}//ram:BilledQuantity[@unitCode='C62']") == ["1", "2", "1", "3"]
    assert texts(root, f"{items}//ram:RateApplicablePercent") == ["19", "19", "7", "7"]
    assert amounts(root, f"{items}//ram:LineTotalAmount") == [
        Decimal(line.net) / 100 for line in INVOICE.lines
    ]


def test_a_unit_price_that_does_not_divide_evenly_gets_four_decimals() -> None:
    root = parsed(ODD_INVOICE)

    # PIN: net 0.02 over 3 pieces; MAP: net 18.57 over 7; GIFT-CARD: 5.00 over 1.
    assert texts(root, "//ram:NetPriceProductTradePrice/ram:ChargeAmount") == [
        "0.0067", "2.6529", "5.00"
    ]  # fmt: skip


def test_rate_zero_is_category_z_and_others_are_s() -> None:
    root = parsed(ODD_INVOICE)
    breakdown = "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax"

    assert texts(root, f"{breakdown}/ram:CategoryCode") == ["S", "S", "Z"]
    assert texts(root, f"{breakdown}/ram:RateApplicablePercent") == ["25.5", "19", "0"]
    assert texts(root, "//ram:SpecifiedLineTradeSettlement//ram:CategoryCode") == ["S", "S", "Z"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_the_xml_keeps_en16931_arithmetic(document: Document) -> None:
    root = parsed(document)
    total = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    lines = amounts(root, "//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
    (line_total,) = amounts(root, f"{total}/ram:LineTotalAmount")
    (basis_total,) = amounts(root, f"{total}/ram:TaxBasisTotalAmount")
    (tax_total,) = amounts(root, f"{total}/ram:TaxTotalAmount[@currencyID='EUR']")
    (grand, prepaid, due) = [
        amounts(root, f"{total}/ram:{name}")[0]
        for name in ("GrandTotalAmount", "TotalPrepaidAmount", "DuePayableAmount")
    ]
    breakdown = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    bases = [Decimal(row.findtext("ram:BasisAmount", namespaces=NS)) for row in breakdown]
    taxes = [Decimal(row.findtext("ram:CalculatedAmount", namespaces=NS)) for row in breakdown]
    rates = [Decimal(row.findtext("ram:RateApplicablePercent", namespaces=NS)) for row in breakdown]

    assert sum(lines) == line_total == basis_total == sum(bases)  # BR-CO-10, BR-CO-13
    assert sum(taxes) == tax_total  # BR-CO-14
    assert grand == basis_total + tax_total == Decimal(document.total) / 100  # BR-CO-15
    assert (prepaid, due) == (grand, Decimal("0.00"))  # BR-CO-16: everything was paid
    for basis, tax, rate in zip(bases, taxes, rates, strict=True):  # BR-CO-17, money.tax's cent
        assert abs(tax - (basis * rate / 100).quantize(Decimal("0.01"))) <= Decimal("0.01")


def test_each_rates_basis_is_the_sum_of_its_lines_nets() -> None:
    root = parsed(INVOICE)  # BR-S-08
    by_rate: dict[str, Decimal] = {}
    for item in root.xpath("//ram:IncludedSupplyChainTradeLineItem", namespaces=NS):
        rate = item.findtext(".//ram:RateApplicablePercent", namespaces=NS)
        net = Decimal(item.findtext(".//ram:LineTotalAmount", namespaces=NS))
        by_rate[rate] = by_rate.get(rate, Decimal(0)) + net

    breakdown = root.xpath(
        "//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS
    )
    assert by_rate == {
        row.findtext("ram:RateApplicablePercent", namespaces=NS): Decimal(
            row.findtext("ram:BasisAmount", namespaces=NS)
        )
        for row in breakdown
    }


def test_a_seller_without_a_vat_id_is_refused() -> None:
    document = replace(INVOICE, seller=replace(SELLER, vat_id=None))

    with pytest.raises(ValueError, match="VAT id"):
        cii_xml(document)


def test_a_naive_issue_time_is_refused() -> None:
    document = replace(INVOICE, issued_at=datetime(2026, 3, 1, 12))  # noqa: DTZ001

    with pytest.raises(ValueError, match="UTC-aware"):
        cii_xml(document)


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_the_pdf_embeds_exactly_the_xml(document: Document, pdfs: dict[str, bytes]) -> None:
    name, xml = facturx.get_xml_from_pdf(pdfs[document.number], check_xsd=True)
    embedded = etree.fromstring(xml)

    assert name == "factur-x.xml"
    assert xml == cii_xml(document)
    assert (facturx.get_flavor(embedded), facturx.get_level(embedded)) == ("factur-x", "en16931")


def test_the_pdf_is_one_pdf_not_a_copy_behind_its_first_draft(pdfs: dict[str, bytes]) -> None:
    pdf = pdfs[INVOICE.number]  # generate_from_binary's output would hold two (factur-x#24)

    assert pdf.startswith(b"%PDF-1.")
    assert pdf.count(b"%PDF-") == 1
    assert pdf.count(b"startxref") == 1


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_the_pdf_says_pdf_a_3_and_factur_x_en16931(
    document: Document, pdfs: dict[str, bytes]
) -> None:
    root = PdfReader(BytesIO(pdfs[document.number])).root_object
    xmp = stream(root["/Metadata"]).get_data().decode()

    assert "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>" in xmp


def test_the_pdf_metadata_names_the_seller_and_the_document(pdfs: dict[str, bytes]) -> None:
    metadata = PdfReader(BytesIO(pdfs[CREDIT_NOTE.number])).metadata

    assert metadata is not None
    assert (metadata.author, metadata.title) == ("Demo Shop GmbH", "Credit note CN-2026-000001")
    assert metadata.subject is not None
    assert "o-7f3a" in metadata.subject


@pytest.mark.parametrize("document", DOCUMENTS, ids=numbered)
def test_every_font_in_the_pdf_is_embedded(document: Document, pdfs: dict[str, bytes]) -> None:
    pages = PdfReader(BytesIO(pdfs[document.number])).pages
    fonts = [dictionary(dictionary(page["/Resources"])["/Font"]) for page in pages]
    descriptors = [
        dictionary(dictionary(font)["/FontDescriptor"]) for f in fonts for font in f.values()
    ]

    assert descriptors
    assert all("/FontFile2" in descriptor for descriptor in descriptors)  # TrueType, embedded


def test_the_pdf_has_an_srgb_output_intent(pdfs: dict[str, bytes]) -> None:
    root = PdfReader(BytesIO(pdfs[INVOICE.number])).root_object
    (intent,) = [dictionary(item) for item in array(root["/OutputIntents"])]
    profile = stream(intent["/DestOutputProfile"])

    assert intent["/S"] == NameObject("/GTS_PDFA1")
    assert profile["/N"] == NumberObject(3)
    assert profile.get_data()[36:40] == b"acsp"  # an ICC profile's signature


def dictionary(value: object) -> DictionaryObject:
    resolved = value.get_object() if isinstance(value, PdfObject) else value
    assert isinstance(resolved, DictionaryObject)
    return resolved


def array(value: object) -> ArrayObject:
    resolved = value.get_object() if isinstance(value, PdfObject) else value
    assert isinstance(resolved, ArrayObject)
    return resolved


def stream(value: object) -> StreamObject:
    resolved = dictionary(value)
    assert isinstance(resolved, StreamObject)
    return resolved


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_invoice_page_shows_number_vat_id_buyer_lines_and_totals(
    pdfs: dict[str, bytes],
) -> None:
    text = pdf_text(pdfs[INVOICE.number])

    for shown in ["Invoice", "INV-2026-000001", "Date: 2026-03-01", "Order: o-7f3a"]:
        assert shown in text
    for shown in ["VAT ID: DE123456789", "Erika Mustermann", "51147 Köln"]:
        assert shown in text
    for shown in ["LAMP", "1,199.00 EUR", "19%", "7%"]:
        assert shown in text
    assert "1,278.85 EUR" in text  # the total
    assert "Paid: card 1,258.85 EUR, store credit 20.00 EUR" in text


def test_the_credit_note_page_says_which_invoice_it_corrects(pdfs: dict[str, bytes]) -> None:
    text = pdf_text(pdfs[CREDIT_NOTE.number])

    assert "Credit note" in text
    assert "CN-2026-000001" in text
    assert "Corrects invoice INV-2026-000001" in text
    assert "GOODWILL" in text
    assert "10.00 EUR" in text


def test_a_long_invoice_spills_onto_more_pages_with_the_header_repeated() -> None:
    many = draft(
        [
            PricedLine(sku=f"SKU-{n:03d}", quantity=1, unit_price=100 + n, tax_rate=Decimal("19"))
            for n in range(40)
        ]
    )
    pages = PdfReader(BytesIO(invoice_pdf(issued(many, number="INV-2026-000003")))).pages
    first, second = pages[0].extract_text(), pages[1].extract_text()

    assert "SKU-000" in first
    assert "Unit price" in second
    assert "SKU-039" in second


def pdftoppm() -> str:
    found = shutil.which("pdftoppm")
    if found is None:
        pytest.fail("pdftoppm is missing: install Debian's poppler-utils (make test does)")
    return found


def render(pdf: bytes, tmp_path: Path, *options: str) -> Path:
    source = tmp_path / "document.pdf"
    source.write_bytes(pdf)
    command = [pdftoppm(), *options, "-r", "50", "-f", "1", "-l", "1", str(source)]
    subprocess.run([*command, str(tmp_path / "page")], check=True, capture_output=True)
    (page,) = tmp_path.glob("page*")
    return page


def dark_share(pgm: bytes) -> float:
    """The share of pixels darker than mid-grey in a binary PGM (P5, 8 bits)."""
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", pgm)
    assert header is not None, pgm[:20]
    pixels = pgm[header.end() :]
    assert len(pixels) == int(header[1]) * int(header[2])
    return sum(1 for value in pixels if value < 128) / len(pixels)


def test_page_one_renders_to_a_png(pdfs: dict[str, bytes], tmp_path: Path) -> None:
    png = render(pdfs[INVOICE.number], tmp_path, "-png")

    assert png.suffix == ".png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 5_000


@pytest.mark.parametrize("document", [INVOICE, CREDIT_NOTE], ids=numbered)
def test_page_one_is_not_blank(document: Document, pdfs: dict[str, bytes], tmp_path: Path) -> None:
    pgm = render(pdfs[document.number], tmp_path, "-gray")

    assert 0.005 < dark_share(pgm.read_bytes()) < 0.5
