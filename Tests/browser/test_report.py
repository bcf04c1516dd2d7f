#!/usr/bin/env python3
"""The report in a real browser: headless Chromium (Debian's chromium and chromium-driver,
driven by python3-selenium), no network, no browser download.

For each report folder given (index.html and the files beside it):
- no console error, no failed request, and no request other than the page itself;
- every section answers first (a sentence and a chart), its controls are there, and a filter
  changes what is shown (the answer, the chart, the rows of the table);
- the heat map's measure switch changes the cells; periods in progress are hatched;
- a table sorts; every aggregate row is on the page; the CSV and workbook links resolve;
- at 400 px nothing is wider than the screen (wide parts scroll in their own box) and no bar
  label is cut;
- printed (A4): every section unfolded, no scroll box, the PDF's pages are A4;
- the customer models' sections: the calibration chart's bars, the p_alive bars adding up to
  customer_predictions.csv, parameters not estimated shown as such, no customer row on the page.
Screenshots at 1400 px and 400 px and the PDF go to --out (build/browser/).

    python3 Tests/browser/test_report.py --out build/browser NAME=DIR [NAME=DIR …]
"""
import argparse, base64, csv, json, os, re, sys, time
from urllib.parse import unquote, urlparse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

# The sections every report has, with the control each must offer (None: none required).
SECTIONS = {
    "cohort": "button", "period": "button", "migration": "button", "channel": "select",
    "fans": "select", "fanlift": "button", "customers": "button", "quality": "button",
}

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL:", what, flush=True)


def driver():
    o = webdriver.ChromeOptions()
    o.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
              "--force-device-scale-factor=1", "--disable-extensions", "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--lang=zh-CN"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=o)


def size(d, width, height=900):
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def logs(d, name, page):
    """Console errors and requests since the last call."""
    for e in d.get_log("browser"):
        check(e["level"] not in ("SEVERE", "ERROR"), f"{name}: console: {e['message']}")
    for e in d.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m["method"] == "Network.requestWillBeSent":
            url = m["params"]["request"]["url"]
            check(url == page or url.startswith("data:"), f"{name}: the page requested {url}")
        elif m["method"] == "Network.loadingFailed":
            check(False, f"{name}: request failed: {m['params'].get('errorText')}")


def click(d, el):
    """A real click, after bringing the element to the middle of the screen (not under the sticky bar)."""
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
    el.click()


def visible_text(d, el):
    return d.execute_script("return arguments[0].innerText", el).strip()


def shot(d, path, width):
    size(d, width)
    h = d.execute_script("return document.documentElement.scrollHeight")
    size(d, width, min(h, 30000))
    time.sleep(0.2)
    png = d.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    with open(path, "wb") as f:
        f.write(base64.b64decode(png["data"]))
    size(d, width)


def test_report(d, name, folder, out):
    page = "file://" + os.path.abspath(os.path.join(folder, "index.html"))
    size(d, 1400)
    t0 = time.time()
    d.get(page)
    logs(d, name, page)
    check(d.execute_script("return document.documentElement.lang") in ("zh-CN", "en"), f"{name}: page language")

    # Every section: answer first (a sentence), a chart, its control; a filter changes what is shown.
    for sid, control in SECTIONS.items():
        secs = d.find_elements(By.CSS_SELECTOR, f"section#{sid}")
        check(len(secs) == 1, f"{name}: section {sid} is on the page")
        if not secs:
            continue
        sec = secs[0]
        answer = [a for a in sec.find_elements(By.CSS_SELECTOR, ".answer p.lead") if a.is_displayed()]
        check(answer and len(visible_text(d, answer[0])) > 20, f"{name}/{sid}: a sentence answers the section's question")
        charts = [c for c in sec.find_elements(By.CSS_SELECTOR, "svg.chart, .bars, table.matrix") if c.is_displayed()]
        check(charts, f"{name}/{sid}: a chart is shown")
        if charts and answer:
            # In the first screen of the section: the sentence and the chart come before any table.
            top = sec.rect["y"]
            check(answer[0].rect["y"] - top < 400, f"{name}/{sid}: the answer is in the section's first screen")
            check(charts[0].rect["y"] - top < 900, f"{name}/{sid}: the chart starts in the section's first screen")
        if control == "select":
            sel = sec.find_elements(By.CSS_SELECTOR, "select[data-ctl=filter]")
            check(sel, f"{name}/{sid}: a filter (select) is there")
            if not sel:
                continue
            s = Select(sel[0])
            before = visible_text(d, sec.find_element(By.CSS_SELECTOR, ".answer"))
            first = s.first_selected_option.get_attribute("value")
            options = [o.get_attribute("value") for o in s.options]
            check(len(options) > 1, f"{name}/{sid}: the filter has options")
            if len(options) > 1:
                s.select_by_value(options[1])
                after = visible_text(d, sec.find_element(By.CSS_SELECTOR, ".answer"))
                check(after != before, f"{name}/{sid}: choosing {options[1]} changes the answer")
                check(sec.get_attribute("data-filter") == options[1], f"{name}/{sid}: the section records its filter")
                s.select_by_value(first)
        else:
            segs = sec.find_elements(By.CSS_SELECTOR, "[data-ctl=filter]")
            check(segs, f"{name}/{sid}: a filter is there")
            if not segs:
                continue
            buttons = segs[0].find_elements(By.TAG_NAME, "button")
            check(len(buttons) > 1, f"{name}/{sid}: the filter has options")
            if len(buttons) < 2:
                continue
            pressed = [b for b in buttons if b.get_attribute("aria-pressed") == "true"]
            other = [b for b in buttons if b.get_attribute("aria-pressed") != "true"][0]
            shown = lambda: visible_text(d, sec)
            before = shown()
            rows = "return Array.from(arguments[0].querySelectorAll('tr[data-f]')).filter(r => !r.hidden).map(r => r.getAttribute('data-f')).join(',')"
            rows_before = d.execute_script(rows, sec)
            click(d, other)
            check(other.get_attribute("aria-pressed") == "true", f"{name}/{sid}: the pressed button follows the click")
            check(shown() != before, f"{name}/{sid}: the filter {other.text} changes what is shown")
            rows_after = d.execute_script(rows, sec)
            if rows_before:
                check(rows_after != rows_before, f"{name}/{sid}: the filter changes the table's rows")
            if pressed:
                click(d, pressed[0])

    test_predictions(d, name, folder)

    # The heat map: the measure switch changes the cells; periods in progress are hatched.
    cells = lambda: d.execute_script("return Array.from(document.querySelectorAll('section#cohort [data-v]:not([hidden]) table.heat td[data-x]')).map(t => t.className + '|' + t.textContent).join(',')")
    before = cells()
    click(d, d.find_element(By.CSS_SELECTOR, "section#cohort [data-ctl=metric] button[data-val=c]"))
    check(cells() != before, f"{name}: the heat map's switch to cumulative repeat changes the cells")
    click(d, d.find_element(By.CSS_SELECTOR, "section#cohort [data-ctl=metric] button[data-val=v]"))
    check(cells() != before, f"{name}: the heat map's switch to revenue changes the cells")
    click(d, d.find_element(By.CSS_SELECTOR, "section#cohort [data-ctl=metric] button[data-val=r]"))
    check(cells() == before, f"{name}: back to retention, the cells are as first drawn")
    partial_rows = 0
    with open(os.path.join(folder, "cohort_repurchase.csv"), encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
        partial_rows = sum(1 for r in rows if r["partial"] == "true")
    hatched = d.execute_script("return Array.from(document.querySelectorAll('table.heat td.inc')).filter(t => getComputedStyle(t).backgroundImage.includes('gradient')).length")
    check(hatched == partial_rows, f"{name}: every period in progress is hatched ({hatched} cells, {partial_rows} partial rows)")

    # Every aggregate row is on the page (no "first 200"), and the links resolve beside index.html.
    on_page = d.execute_script("return document.querySelectorAll('section#cohort table.data tbody tr').length")
    check(on_page == len(rows), f"{name}: cohort_repurchase has all {len(rows)} rows on the page ({on_page})")
    for href in d.execute_script("return Array.from(document.querySelectorAll('a[download]')).map(a => a.getAttribute('href'))"):
        check(not re.match(r"^[a-z]+:", href) and os.path.exists(os.path.join(folder, unquote(href))), f"{name}: link {href} resolves beside index.html")
    check(d.execute_script("return document.querySelectorAll('section#customers table.data').length") == 0, f"{name}: no per-customer rows on the page")

    # Sorting: a numeric column, ascending then descending.
    th = d.find_element(By.CSS_SELECTOR, "section#migration table.data thead th:nth-child(4)")
    d.execute_script("arguments[0].closest('.fold').setAttribute('data-open','true')", th)
    click(d, th)
    vals = d.execute_script("return Array.from(document.querySelectorAll('section#migration table.data tbody tr')).filter(r => !r.hidden).map(r => Number(r.cells[3].textContent.replace(/,/g,'')))")
    check(vals == sorted(vals) and len(vals) > 1, f"{name}: a click sorts a column ascending {vals}")
    click(d, th)
    vals = d.execute_script("return Array.from(document.querySelectorAll('section#migration table.data tbody tr')).filter(r => !r.hidden).map(r => Number(r.cells[3].textContent.replace(/,/g,'')))")
    check(vals == sorted(vals, reverse=True), f"{name}: a second click sorts it descending")

    # Hover values: a heat cell and a bar tell their numbers.
    cell = d.find_element(By.CSS_SELECTOR, "section#cohort [data-v]:not([hidden]) table.heat td[data-x]")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    time.sleep(0.1)
    ActionChains(d).move_to_element(cell).perform()
    tip = d.find_element(By.ID, "tip")
    check(tip.is_displayed() and "%" in tip.text, f"{name}: hovering a heat cell shows its values ({tip.text!r})")
    bar = [b for b in d.find_elements(By.CSS_SELECTOR, "section#channel .bar-row[data-tip]") if b.is_displayed()][0]
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    time.sleep(0.1)
    ActionChains(d).move_to_element(bar).perform()
    check(tip.is_displayed() and "¥" in tip.text, f"{name}: hovering a channel's bar shows its numbers ({tip.text!r})")
    logs(d, name, page)
    d.execute_script("location.reload()")
    time.sleep(0.3)
    shot(d, os.path.join(out, f"{name}-1400.png"), 1400)

    # A phone, 400 px wide: nothing wider than the screen; wide parts scroll in their own box; no label cut.
    size(d, 400)
    time.sleep(0.2)
    width = d.execute_script("return document.documentElement.scrollWidth")
    check(width <= 400, f"{name}: at 400 px the page is {width} px wide")
    cut = d.execute_script("""return Array.from(document.querySelectorAll('.bar-label, .bar-val, .bar-note, .answer, h2, .kpi, .seg button, figcaption'))
        .filter(e => e.offsetParent !== null)
        .filter(e => { const r = e.getBoundingClientRect(); return r.right > 401 || e.scrollWidth > e.clientWidth + 1; })
        .map(e => e.className + ': ' + e.textContent.slice(0, 40));""")
    check(not cut, f"{name}: at 400 px these are cut: {cut[:5]}")
    boxes = d.execute_script("""return Array.from(document.querySelectorAll('.heatbox, .tbox')).filter(e => e.offsetParent !== null)
        .map(e => [getComputedStyle(e).overflowX, e.getBoundingClientRect().right]);""")
    check(all(o in ("auto", "scroll") and r <= 401 for o, r in boxes), f"{name}: at 400 px the heat map and tables scroll in their own box {boxes[:3]}")
    svgs = d.execute_script("""return Array.from(document.querySelectorAll('svg.chart')).filter(e => e.getBoundingClientRect().width > 0)
        .map(e => e.getBoundingClientRect().right);""")
    check(all(r <= 401 for r in svgs), f"{name}: at 400 px every chart fits the screen")
    shot(d, os.path.join(out, f"{name}-400.png"), 400)

    # Print: A4, every section unfolded, no scroll box cutting rows.
    size(d, 1400)
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    folded = d.execute_script("return Array.from(document.querySelectorAll('.fold-body')).filter(e => getComputedStyle(e).display === 'none').length")
    check(folded == 0, f"{name}: printed, {folded} folded parts stay folded")
    scrolling = d.execute_script("""return Array.from(document.querySelectorAll('.tbox, .heatbox')).filter(e => e.offsetParent !== null)
        .filter(e => getComputedStyle(e).overflowY !== 'visible' || getComputedStyle(e).maxHeight !== 'none').length""")
    check(scrolling == 0, f"{name}: printed, {scrolling} boxes still scroll")
    rows_break = d.execute_script("return getComputedStyle(document.querySelector('table.data tbody tr')).breakInside")
    check(rows_break == "avoid", f"{name}: printed, table rows are not cut in two ({rows_break})")
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = d.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
    data = base64.b64decode(pdf["data"])
    with open(os.path.join(out, f"{name}.pdf"), "wb") as f:
        f.write(data)
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data))
    check(boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), f"{name}: the PDF's pages are A4 {boxes}")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    logs(d, name, page)
    print(f"{name}: {pages} A4 pages, {time.time() - t0:.1f} s", flush=True)


def read_csv(folder, output):
    with open(os.path.join(folder, f"{output}.csv"), encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_predictions(d, name, folder):
    """The customer models' sections ([predictions] enabled): each answers first; the calibration
    chart has a predicted and an actual bar per calibration frequency with customers; the p_alive
    bars count every customer of customer_predictions.csv once (one-time buyers on their own bar);
    parameters the data did not estimate read as such; no customer row is on the page."""
    enabled = os.path.exists(os.path.join(folder, "model_fit.csv"))
    for sid in ("predictions", "predcheck", "modelfit"):
        secs = d.find_elements(By.CSS_SELECTOR, f"section#{sid}")
        check(len(secs) == (1 if enabled else 0), f"{name}: section {sid} is on the page exactly when the models are enabled")
        if not secs:
            continue
        sec = secs[0]
        answer = [a for a in sec.find_elements(By.CSS_SELECTOR, ".answer p.lead") if a.is_displayed()]
        check(answer and len(visible_text(d, answer[0])) > 20, f"{name}/{sid}: a sentence answers the section's question")
        check(len(d.execute_script("return arguments[0].innerHTML", sec)) < 200_000, f"{name}/{sid}: the section stays light (aggregates only)")
        check(not d.execute_script("return Array.from(arguments[0].querySelectorAll('th')).some(t => t.textContent.includes('customer_key'))", sec),
              f"{name}/{sid}: no per-customer table")
    if not enabled:
        return

    # The calibration chart: two bars per calibration frequency that has customers, drawn and sized.
    rows = read_csv(folder, "prediction_check")
    with_customers = [r for r in rows if int(r["customers"]) > 0]
    sec = d.find_element(By.CSS_SELECTOR, "section#predcheck")
    for cls in ("s-pred", "s-act"):
        n = d.execute_script(f"return arguments[0].querySelectorAll('svg.chart rect.{cls}').length", sec)
        check(n == len(with_customers), f"{name}/predcheck: {n} {cls} bars for {len(with_customers)} frequencies with customers")
    tallest = d.execute_script("return Math.max(...Array.from(arguments[0].querySelectorAll('svg.chart rect.s-act, svg.chart rect.s-pred')).map(r => r.getBoundingClientRect().height))", sec)
    check(tallest > 50, f"{name}/predcheck: the bars are drawn ({tallest:.0f} px at most)")
    groups = sec.find_elements(By.CSS_SELECTOR, "svg.chart g.cgrp")
    check(len(groups) == len(rows), f"{name}/predcheck: a hover target per frequency ({len(groups)} for {len(rows)} rows)")
    if groups:
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", groups[1])
        time.sleep(0.3)   # the scroll's event hides the tip: let it pass first
        ActionChains(d).move_to_element(groups[1]).move_by_offset(2, 0).perform()
        tip = d.find_element(By.ID, "tip")
        check(tip.is_displayed() and re.search(r"\d\.\d\d", tip.text), f"{name}/predcheck: hovering a frequency shows its numbers ({tip.text!r})")
    shown = d.execute_script("return arguments[0].querySelectorAll('table.data tbody tr').length", sec)
    check(shown == len(rows), f"{name}/predcheck: every row of prediction_check.csv in the table ({shown} of {len(rows)})")

    # The p_alive bars: ten deciles and the one-time buyers, adding up to every customer.
    customers = len(read_csv(folder, "customer_predictions"))
    sec = d.find_element(By.CSS_SELECTOR, "section#predictions")
    deciles = sec.find_elements(By.CSS_SELECTOR, ".bar-row.b-alive")
    once = sec.find_elements(By.CSS_SELECTOR, ".bar-row.b-once")
    check(len(deciles) == 10 and len(once) <= 1, f"{name}/predictions: ten p_alive bars and one for one-time buyers ({len(deciles)}, {len(once)})")
    total = sum(int(r.find_element(By.CSS_SELECTOR, ".bar-val").text.replace(",", "")) for r in deciles + once)
    check(total == customers, f"{name}/predictions: the p_alive bars count {total} customers, customer_predictions.csv has {customers}")
    check(d.execute_script("return arguments[0].querySelectorAll('svg.chart rect.s-val').length", sec) > 0, f"{name}/predictions: the cohorts' value chart is drawn")

    # Parameters the data did not estimate read as such, in the parameter table.
    empty = [r for r in read_csv(folder, "model_fit") if r["value"] == "" and r["customers"] != "0"]
    na = d.execute_script("return document.querySelectorAll('section#modelfit table.data td.na').length")
    check(na == len(empty), f"{name}/modelfit: {na} cells read 'not estimated' for {len(empty)} empty values of model_fit.csv")


def test_partial(d, name, folder):
    """A report whose last period is in progress: its cells are hatched, the curves dashed."""
    page = "file://" + os.path.abspath(os.path.join(folder, "index.html"))
    size(d, 1400)
    d.get(page)
    logs(d, name, page)
    n = d.execute_script("return document.querySelectorAll('section#cohort table.heat td.inc').length")
    check(n > 0, f"{name}: periods in progress are drawn (hatched cells: {n})")
    looks = d.execute_script("""const t = document.querySelector('section#cohort [data-v]:not([hidden]) table.heat td.inc');
        const s = getComputedStyle(t); return [s.backgroundImage, s.outlineStyle];""")
    check("gradient" in looks[0] and looks[1] == "dashed", f"{name}: an in-progress cell is hatched and outlined, not faded: {looks}")
    check(d.execute_script("return document.querySelectorAll('section#cohort svg polyline.dash').length") > 0, f"{name}: curves are dashed into the period in progress")
    check(d.execute_script("return document.querySelectorAll('section#period svg .pbar.inc').length") > 0, f"{name}: the period in progress is hatched in the buyers chart")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--partial", help="NAME=DIR of a report whose last period is in progress")
    ap.add_argument("reports", nargs="+", help="NAME=DIR")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    d = driver()
    try:
        for spec in a.reports:
            name, folder = spec.split("=", 1)
            test_report(d, name, folder, a.out)
        if a.partial:
            name, folder = a.partial.split("=", 1)
            test_partial(d, name, folder)
    finally:
        d.quit()
    print(f"browser test: {len(failures)} failure(s), {time.time() - t0:.1f} s; screenshots and PDFs in {a.out}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
