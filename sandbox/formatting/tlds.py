"""Top-level domains that make a bare "domain.tld" a link."""

from __future__ import annotations

# A curated subset of tdlib's is_common_tld list (which is most of IANA's root zone):
# a bare "domain.tld" without a scheme is a link only for these.
TLD_WORDS = """
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo
    br bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm
    do dz ec ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr
    gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki
    km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo
    mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph
    pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr
    ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz
    va vc ve vg vi vn vu wf ws ye yt za zm zw com net org info biz edu gov mil int name pro
    mobi aero asia cat coop jobs museum tel travel app dev io ai art blog bot cloud club
    design digital email fun games group guru host link live media money news one online
    page photo plus shop site space store stream studio tech today top video vip website
    wiki win work world xyz ton onion chat social team agency academy center company network
    life systems solutions email tools zone рф рус укр бел срб мкд қаз москва онлайн сайт
    орг ком дети
"""
TLDS = frozenset(TLD_WORDS.split())
