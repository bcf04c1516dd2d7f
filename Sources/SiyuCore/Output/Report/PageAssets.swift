/// The page's stylesheet (screen, phone at 400 px, A4 print) and its script (filters, the heat
/// map's measure, sorting, hover values, folds). Inline: the page makes no request.
enum PageAssets {
    /// Patterns shared by every chart (a pattern inside a hidden SVG would not draw).
    static let svgDefs = "<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\" focusable=\"false\"><defs>"
        + "<pattern id=\"hatch-new\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#e8f1fa\"/><rect width=\"2\" height=\"5\" fill=\"#9cc3e8\"/></pattern>"
        + "<pattern id=\"hatch-ret\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#dbe6f2\"/><rect width=\"2\" height=\"5\" fill=\"#1f5c99\"/></pattern>"
        + "</defs></svg>"

    /// The words the script needs, as JSON (no `<` in it, so it cannot end its script element).
    static func words(_ w: Words) -> String {
        let pairs: [(String, String)] = [
            ("lang", w("zh-CN", "en")),
            ("rowsAll", w("{n} 行", "{n} rows")), ("rowsSome", w("显示 {s} / 共 {n} 行", "{s} of {n} rows")),
            ("ret", w("留存", "retention")), ("cum", w("累计复购", "cumulative repeat")), ("rev", w("净收入", "net revenue")),
            ("inc", w("未结束", "in progress")), ("wan", w("万", "")),
        ]
        func q(_ s: String) -> String {
            "\"" + HTMLReport.substitute(s) {
                switch $0 {
                case "\"": return "\\\""
                case "\\": return "\\\\"
                case "<": return "\\u003c"
                case ">": return "\\u003e"
                case "&": return "\\u0026"
                default: return nil
                }
            } + "\""
        }
        return "{" + pairs.map { "\(q($0.0)):\(q($0.1))" }.joined(separator: ",") + "}"
    }

    /// h0 … h10: the heat map's colour steps (the same scale as HeatColor.css).
    static let heatLevels = (0...10).map { i in ".h\(i){background-color:\(HeatColor.css(Double(i) / 10))\(i > 5 ? ";color:#fff" : "")}" }.joined()

    static let css = """
    :root{--ink:#1d2733;--muted:#5a6878;--line:#dde3ea;--bg:#f6f7f9;--accent:#12355b;--blue:#2f6fb3;--new:#9cc3e8;--ret:#1f5c99;--store:#1b8a5a;--warn:#b45309;--hot:#d9480f}
    *{box-sizing:border-box}
    body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;margin:0;color:var(--ink);background:var(--bg);line-height:1.55;-webkit-text-size-adjust:100%;text-size-adjust:100%}
    header.top{background:var(--accent);color:#fff;padding:16px 24px}header.top h1{margin:0;font-size:22px;line-height:1.3}header.top p{margin:4px 0 0;font-size:14px;opacity:.92}header.top a{color:#fff}
    nav.toc{display:flex;gap:6px;flex-wrap:wrap;padding:8px 24px;background:#fff;border-bottom:1px solid var(--line);position:sticky;top:0;z-index:5}
    nav.toc a{font-size:13px;color:var(--accent);text-decoration:none;padding:2px 9px;border-radius:12px;background:#eef2f6;white-space:nowrap}
    main{padding:4px 24px 40px;max-width:1180px;margin:0 auto}
    .kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:16px 0}
    .kpi{display:block;background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 14px;color:inherit;text-decoration:none}
    .kpi b{display:block;font-size:21px}.kpi span{color:var(--muted);font-size:13px}
    section.card{background:#fff;border:1px solid var(--line);border-radius:8px;margin:16px 0;padding:14px 18px;scroll-margin-top:48px}
    .sec-head{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:2px 12px}
    h2{font-size:19px;margin:2px 0;line-height:1.35}h3{font-size:15px;margin:18px 0 6px}
    .links{font-size:12px}.links a{margin-left:10px;color:var(--blue)}
    .controls{display:flex;flex-wrap:wrap;gap:8px 18px;margin:8px 0 4px}
    .seg{display:inline-flex;flex-wrap:wrap;align-items:center;gap:4px;margin:2px 0}.seg-label{font-size:12px;color:var(--muted);margin-right:4px}
    .seg button{font:inherit;font-size:13px;border:1px solid #b9c4d0;background:#fff;color:var(--ink);border-radius:14px;padding:1px 11px;cursor:pointer}
    .seg button[aria-pressed=true]{background:var(--accent);border-color:var(--accent);color:#fff}
    .sel{display:inline-flex;align-items:center;gap:4px;max-width:100%}.sel select{font:inherit;font-size:13px;padding:2px 6px;border:1px solid #b9c4d0;border-radius:6px;background:#fff;max-width:100%}
    .answer p.lead,section.card>p.lead{font-size:15px;margin:6px 0}p.note{color:var(--muted);font-size:13px;margin:4px 0 8px}
    p.warn{background:#fff7e6;border-left:3px solid var(--warn);padding:5px 10px;font-size:13px;margin:6px 0}
    figure.chart-box{margin:8px 0;overflow-x:auto;-webkit-overflow-scrolling:touch}figure.chart-box figcaption{font-size:12px;color:var(--muted)}
    svg.chart{width:100%;max-width:700px;height:auto;display:block}
    svg text{font-family:inherit;fill:var(--ink);font-size:12px}svg .ax{fill:var(--muted);font-size:11px}svg .grid{stroke:#e6ebf0;stroke-width:1}
    svg polyline{fill:none;stroke:currentColor;stroke-width:1.5;stroke-linejoin:round}svg circle{fill:currentColor}svg circle.open{fill:#fff;stroke:currentColor;stroke-width:1.5}
    svg .dash{stroke-dasharray:5 4}svg text.end{fill:currentColor;font-size:11px;font-weight:600}
    svg g[data-tip]:hover polyline{stroke-width:3}
    .c-cohort{color:#a9c0d8}svg .c-cohort polyline{stroke-width:1.1}.c-best{color:var(--hot)}svg .c-best polyline{stroke-width:2.5}.c-avg{color:var(--accent)}svg .c-avg polyline{stroke-width:3.5}
    .s-ret{color:var(--ret)}.s-rep{color:var(--hot)}.s-fan{color:var(--store)}.s-non{color:#7b8794}
    svg .pbar .new{fill:var(--new)}svg .pbar .ret{fill:var(--ret)}svg .pbar .hit{fill:transparent}svg .pbar:hover .hit{fill:rgba(18,53,91,.06)}
    svg .pbar.inc .new{fill:url(#hatch-new);stroke:var(--new);stroke-dasharray:3 2}svg .pbar.inc .ret{fill:url(#hatch-ret);stroke:var(--ret);stroke-dasharray:3 2}
    .legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted);margin:4px 0}
    .key{display:inline-block;width:14px;height:10px;margin-right:5px;vertical-align:middle;background:currentColor;border-radius:2px}
    .key.c-dash{background:none;border-top:2px dashed var(--muted);height:0}.key.c-avg,.key.c-best,.key.c-cohort,.key.s-ret,.key.s-rep,.key.s-fan,.key.s-non{height:3px}
    .key.k-new{background:var(--new)}.key.k-ret{background:var(--ret)}
    .key.k-inc,.key.inc-key{background:repeating-linear-gradient(135deg,#9cc3e8 0 2px,#fff 2px 5px);outline:1px dashed var(--muted)}
    svg .cgrp .hit{fill:transparent}svg .cgrp:hover .hit{fill:rgba(18,53,91,.06)}svg .cgrp.small rect:not(.hit){opacity:.45}svg .base{stroke:#9aa7b5;stroke-width:1}
    svg rect.s-pred{fill:var(--new)}svg rect.s-act{fill:var(--ret)}svg rect.s-val{fill:var(--store)}svg text.val{font-size:10px;fill:var(--muted)}
    .key.k-pred{background:var(--new)}.key.k-act{background:var(--ret)}
    dl.params{display:grid;grid-template-columns:minmax(12em,20em) 1fr;gap:4px 14px;font-size:13px;margin:4px 0 8px}dl.params dt{font-weight:600}dl.params dd{margin:0;color:var(--muted)}
    table.data td.na{color:var(--muted);font-style:italic}table.data td.bad{color:var(--warn);font-weight:600}p.warn small{color:var(--muted)}
    .bars{display:grid;gap:6px;margin:6px 0;max-width:880px}
    .bar-row{display:grid;grid-template-columns:minmax(7em,12em) minmax(90px,1fr) minmax(6em,auto);grid-template-areas:"label track val" ". note note";align-items:center;gap:0 10px;font-size:13px}
    .bar-label{grid-area:label;text-align:right;overflow-wrap:anywhere;line-height:1.3}.bar-track{grid-area:track;background:#f0f3f6;height:16px;border-radius:3px;overflow:hidden}
    .bar{display:block;height:100%;background:var(--blue)}.bar-val{grid-area:val;font-weight:600;white-space:nowrap}.bar-note{grid-area:note;color:var(--muted);font-size:12px;line-height:1.3}
    .b-store .bar{background:var(--store)}.b-fan .bar{background:var(--store)}.b-non .bar{background:#7b8794}.b-funnel .bar{background:#2f8f6f}.b-cust .bar{background:var(--ret)}.b-alive .bar{background:var(--ret)}.b-once .bar{background:#9aa7b5}
    .b-none .bar{background:#b9c4d0}.b-warn .bar{background:var(--warn)}.b-free .bar-val,.b-none .bar-val{color:var(--muted);font-weight:normal}
    .small .bar{opacity:.45}.bar-row.inc .bar{background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.55) 0 3px,transparent 3px 7px)}
    .heatbox{overflow:auto;max-width:100%;max-height:560px;border:1px solid var(--line);border-radius:6px;margin:6px 0;-webkit-overflow-scrolling:touch}
    table.heat{border-collapse:separate;border-spacing:1px;font-size:11px;background:#fff}
    table.heat th{font-weight:normal;color:var(--muted);background:#fff;position:sticky;top:0;z-index:1;padding:2px 4px;white-space:nowrap}
    table.heat th.rowh{position:sticky;left:0;z-index:2;text-align:left;color:var(--ink)}table.heat thead th.rowh{z-index:3}table.heat th small{color:var(--muted)}
    table.heat td{min-width:40px;height:22px;text-align:center;padding:0 3px;white-space:nowrap;cursor:default}
    table.heat.compact td{min-width:14px;width:14px;padding:0}table.heat.compact thead th{padding:2px 0;font-size:10px}
    table.heat td.inc{background-image:repeating-linear-gradient(135deg,rgba(255,255,255,.75) 0 2px,transparent 2px 6px);outline:1px dashed #5a6878;outline-offset:-1px}
    table.heat td.none{background:none}
    \(heatLevels)
    .tbox{overflow:auto;max-height:520px;border:1px solid var(--line);border-radius:6px;-webkit-overflow-scrolling:touch}.tbox.wide{max-height:none}
    table.data{border-collapse:collapse;font-size:12px;min-width:100%}
    table.data th,table.data td{border-bottom:1px solid #e9edf1;padding:3px 8px;text-align:left;white-space:nowrap}
    table.data thead th{position:sticky;top:0;background:#eef2f6;z-index:1;vertical-align:bottom}
    table.data thead th{cursor:pointer}table.data th small{display:block;font-size:10px;color:var(--muted);font-weight:normal;font-family:ui-monospace,monospace}
    table.data th.n,table.data td{text-align:right}table.data td.t{text-align:left}
    table.data th[aria-sort=ascending]::after{content:"▲";font-size:10px}table.data th[aria-sort=descending]::after{content:"▼";font-size:10px}
    table.data tr.inc td{color:#6b7885;font-style:italic}table.data tbody tr:hover td{background:#f5f8fb}
    .fold{margin-top:10px}.fold-btn{font:inherit;font-size:13px;color:var(--accent);background:none;border:0;padding:4px 0;cursor:pointer;text-align:left}
    .fold-btn::before{content:"▸ "}.fold[data-open=true]>.fold-btn::before{content:"▾ "}.fold[data-open=false]>.fold-body{display:none}
    table.matrix{border-collapse:separate;border-spacing:2px;font-size:13px}table.matrix th{font-weight:normal;padding:2px 6px;white-space:nowrap}
    table.matrix th.rowh{text-align:left}table.matrix th small{display:block;color:var(--muted);font-size:11px}table.matrix thead th.focus{font-weight:700;color:var(--store)}
    table.matrix td{min-width:74px;text-align:center;padding:4px 6px;border-radius:4px}table.matrix td b{display:block;font-size:15px}table.matrix td small{font-size:11px}
    table.matrix td.moved{outline:2px solid var(--store);outline-offset:-2px}table.matrix tr.total th{font-weight:700}
    table.matrix tr.hl th.rowh{color:var(--hot);font-weight:700}table.matrix tr.hl td{box-shadow:inset 0 0 0 2px var(--hot)}
    .dict-out dl{display:grid;grid-template-columns:minmax(10em,16em) 1fr;gap:2px 12px;font-size:13px;margin:0}.dict-out dt{font-weight:600}.dict-out dd{margin:0;color:var(--muted)}
    .dict-out{scroll-margin-top:48px}code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.92em}
    #tip{position:fixed;z-index:50;pointer-events:none;background:#1d2733;color:#fff;font-size:12px;line-height:1.4;padding:5px 8px;border-radius:4px;max-width:320px;display:none}
    [hidden]{display:none !important}
    @media (max-width:640px){
    header.top{padding:12px}header.top h1{font-size:19px}nav.toc{padding:6px 10px;flex-wrap:nowrap;overflow-x:auto}main{padding:4px 8px 30px}
    section.card{padding:10px;margin:12px 0}h2{font-size:17px}.kpis{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}.kpi{padding:8px 10px}.kpi b{font-size:18px}
    svg text{font-size:16px}svg .ax{font-size:14px}svg text.end{font-size:14px}.bar-row{grid-template-columns:minmax(0,1fr) auto;grid-template-areas:"label val" "track track" "note note"}.bar-label{text-align:left}
    .dict-out dl,dl.params{grid-template-columns:1fr}.dict-out dd,dl.params dd{margin-bottom:6px}svg text.val{display:none}
    }
    @page{size:A4;margin:12mm 10mm}
    @media print{
    *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
    body{background:#fff;font-size:11px;line-height:1.4}nav.toc,#tip,.fold-btn::before,.seg button[aria-pressed=false]{display:none !important}
    header.top{background:#fff;color:var(--ink);border-bottom:2px solid var(--accent);padding:0 0 4px}header.top a{color:var(--ink);text-decoration:none}
    main{padding:0;max-width:none}.kpis{grid-template-columns:repeat(5,1fr);gap:6px;margin:8px 0}.kpi{padding:4px 8px}.kpi b{font-size:15px}
    section.card{border:0;border-radius:0;padding:0;margin:0 0 8mm}h2{font-size:15px}h3{font-size:12px}.sec-head,h3{break-after:avoid}
    .answer p.lead{font-size:12px}p.note,p.warn{font-size:10px}
    figure.chart-box,.bar-row,.kpi,.legend,p{break-inside:avoid}figure.chart-box{overflow:visible}svg.chart{max-width:165mm;min-width:0}
    .fold>.fold-body{display:block !important}.fold-btn{color:var(--ink);font-weight:600;padding:0}
    .tbox,.heatbox{max-height:none;overflow:visible;border:0}
    table.data{font-size:8.5px;min-width:0;width:100%}table.data th,table.data td{padding:1px 3px}table.data th small{display:none}
    table.data th,table.data td.t{white-space:normal;overflow-wrap:anywhere}table.data th[aria-sort]::after{content:none}
    table.data thead{display:table-header-group}table.data thead th,table.heat th{position:static}tr{break-inside:avoid;page-break-inside:avoid}
    table.heat{font-size:8px}table.heat td{min-width:26px;height:15px}table.heat.compact td{min-width:12px;width:12px}
    a[download]{color:inherit;text-decoration:none}
    }
    """

    static let script = #"""
    (function(){
    'use strict';
    var W=JSON.parse(document.getElementById('siyu-words').textContent);
    function each(root,sel,f){Array.prototype.forEach.call(root.querySelectorAll(sel),f);}
    function group(n){return String(n).replace(/\B(?=(\d{3})+(?!\d))/g,',');}
    function pct1(a,n){if(!n)return '\u2014';var t=Math.floor((a*2000+n)/(2*n));return Math.floor(t/10)+'.'+(t%10)+'%';}
    function pct0(a,n){if(!n)return '';return Math.floor((a*200+n)/(2*n))+'%';}
    function yuan(f){var y=Math.floor((Math.abs(f)+50)/100);return (f<0?'-':'')+'\u00a5'+group(y);}
    function yuanShort(f){var y=f/100;if(Math.abs(y)>=10000){return W.wan?'\u00a5'+(Math.round(y/1000)/10)+W.wan:'\u00a5'+Math.round(y/1000)+'k';}return yuan(f);}
    function rowsLabel(s,n){return (s===n?W.rowsAll:W.rowsSome).replace('{s}',group(s)).replace('{n}',group(n));}
    function count(fold){
      var label=fold.querySelector('.nrows'),tb=fold.querySelector('tbody');if(!label||!tb)return;
      var n=tb.rows.length,s=0;for(var i=0;i<n;i++){if(!tb.rows[i].hidden)s++;}label.textContent=rowsLabel(s,n);
    }
    function filter(sec,val){
      sec.setAttribute('data-filter',val);
      each(sec,'[data-v]',function(e){e.hidden=e.getAttribute('data-v')!==val;});
      each(sec,'tr[data-f]',function(r){r.hidden=!(val==='*'||r.getAttribute('data-f')===val);});
      each(sec,'[data-hl]',function(r){r.classList.toggle('hl',r.getAttribute('data-hl')===val);});
      each(sec,'.fold',count);
    }
    function metric(sec,m){
      var k={r:0,c:1,v:2}[m];
      each(sec,'[data-m]',function(e){e.hidden=e.getAttribute('data-m')!==m;});
      each(sec,'table.heat',function(tb){
        var mx=tb.getAttribute('data-max').split(' ').map(Number),compact=tb.classList.contains('compact');
        each(tb,'tbody tr',function(tr){
          var n=+tr.getAttribute('data-n');
          each(tr,'td[data-x]',function(td){
            var x=td.getAttribute('data-x').split(' ').map(Number),off=td.cellIndex-1,t,text;
            if(k===0){t=off===0?1:(n?x[0]/n/(mx[0]/10000):0);text=pct0(x[0],n);}
            else if(k===1){t=n?x[1]/n/(mx[1]/10000):0;text=pct0(x[1],n);}
            else{t=x[2]/mx[2];text=yuanShort(x[2]);}
            td.className=td.className.replace(/\bh\d+\b/,'h'+Math.round(Math.max(0,Math.min(1,t))*10));
            if(!compact)td.textContent=text;
          });
        });
      });
    }
    each(document,'[data-ctl]',function(ctl){
      var sec=ctl.closest('section');if(!sec)return;
      if(ctl.tagName==='SELECT'){ctl.addEventListener('change',function(){filter(sec,ctl.value);});return;}
      each(ctl,'button',function(b){b.addEventListener('click',function(){
        each(ctl,'button',function(o){o.setAttribute('aria-pressed',String(o===b));});
        var v=b.getAttribute('data-val');
        if(ctl.getAttribute('data-ctl')==='metric')metric(sec,v);else filter(sec,v);
      });});
    });
    each(document,'.fold-btn',function(b){b.addEventListener('click',function(){
      var f=b.parentNode,open=f.getAttribute('data-open')!=='true';f.setAttribute('data-open',String(open));b.setAttribute('aria-expanded',String(open));
    });});
    function num(s){s=s.replace(/[\u00a5,%\u00d7+\s]/g,'');return s===''?NaN:Number(s);}
    function sortBy(tb,i,th){
      var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
      each(tb,'thead th',function(h){h.setAttribute('aria-sort','none');});th.setAttribute('aria-sort',dir);
      var body=tb.tBodies[0],rows=Array.prototype.slice.call(body.rows),numeric=th.classList.contains('n');
      var keyed=rows.map(function(r,j){var c=r.cells[i],s=c?c.textContent:'';return {r:r,s:s,n:numeric?num(s):NaN,j:j};});
      keyed.sort(function(a,b){
        var ea=numeric?isNaN(a.n):a.s==='',eb=numeric?isNaN(b.n):b.s==='';
        if(ea!==eb)return ea?1:-1;
        var d=ea?0:(numeric?a.n-b.n:a.s.localeCompare(b.s,W.lang));
        if(dir==='descending')d=-d;return d||a.j-b.j;
      });
      var frag=document.createDocumentFragment();keyed.forEach(function(k){frag.appendChild(k.r);});body.appendChild(frag);
    }
    each(document,'table.data',function(tb){
      each(tb,'thead th',function(th){
        th.addEventListener('click',function(){sortBy(tb,th.cellIndex,th);});
        th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sortBy(tb,th.cellIndex,th);}});
      });
    });
    var tip=document.getElementById('tip');
    function heatTip(td){
      var tr=td.parentNode,n=+tr.getAttribute('data-n'),x=td.getAttribute('data-x').split(' ').map(Number);
      var label=tr.cells[0].firstChild.textContent.trim();
      return label+' \u00b7 +'+(td.cellIndex-1)+' \u00b7 '+W.ret+' '+pct1(x[0],n)+' ('+group(x[0])+'/'+group(n)+') \u00b7 '+W.cum+' '+pct1(x[1],n)+' ('+group(x[1])+'/'+group(n)+') \u00b7 '+W.rev+' '+yuan(x[2])+(td.classList.contains('inc')?' \u00b7 '+W.inc:'');
    }
    function show(e){
      var t=e.target;if(!t||!t.closest){return;}
      var h=t.closest('td[data-x]'),d=h?null:t.closest('[data-tip]');
      if(!h&&!d){tip.style.display='none';return;}
      tip.textContent=h?heatTip(h):d.getAttribute('data-tip');tip.style.display='block';
      var x=e.clientX,y=e.clientY,w=tip.offsetWidth,vw=document.documentElement.clientWidth;
      tip.style.left=Math.max(4,Math.min(x+12,vw-w-4))+'px';tip.style.top=(y+16)+'px';
    }
    document.addEventListener('mousemove',show);document.addEventListener('click',show);
    document.addEventListener('scroll',function(){tip.style.display='none';},{passive:true});
    })();
    """#
}
