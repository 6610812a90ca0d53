"""Word lists of the score: how much a strong model helps (pure data, frozensets built once at import).

Code, math, hard-reasoning and analysis vocabulary push the score up; greetings, look-ups and
creative writing pull it down. English, German, French, Spanish, Portuguese and Italian are covered
by word lists; Chinese and Japanese by substrings.
"""

from __future__ import annotations


def words(text: str) -> frozenset[str]:
    """A word list written as one whitespace-separated string."""
    return frozenset(text.split())


# ---------------------------------------------------------------- need (score) lists

HARD = words(
    """
    prove proof proofs theorem lemma corollary derive derivation rigorous rigorously formally
    induction contradiction asymptotic asymptotically architecture architect scalable scalability
    distributed concurrency concurrent deadlock deadlocks tradeoff tradeoffs trade-off trade-offs
    threat vulnerability vulnerabilities exploit exploits cryptographic cryptography eigenvalue
    eigenvalues polynomial polynomials combinatorics combinatorial counterexample optimal optimize
    optimise optimization optimisation microservices sharding replication fault-tolerant
    consensus invariant invariants np-hard heuristic heuristics lagrangian integral integrals
    differential stochastic bayesian regression gradient convergence converge proofread-free
    dijkstra dynamic-programming memoization amortized complexity riddle puzzle paradox
    architektur entwirf entwerfen beweise beweisen abwägungen architecture démontre démontrer montrer
    compromis conçois arquitectura diseña demuestra demostrar arquitetura projete demonstre prove-se
    architettura progetta dimostra dimostrare compromessi
    """
)

# Requests for a proof or a formal derivation: the hardest kind of reasoning for a small model.
PROOF = words("prove proof proofs lemma rigorous rigorously formally induction derive derivation beweise beweisen "
           "démontre démontrer montrer demuestra demostrar demonstre dimostra dimostrare")

ANALYTIC = words(
    """
    analyze analyse analysis analyzing analysing compare comparison contrast evaluate evaluation
    assess assessment justify implications implication consequences critique critically pros cons
    strategy strategies plan planning reasoning argument arguments hypothesis evidence investigate
    diagnose debug refactor implement implementation algorithm algorithms recursion recursive
    probability probabilities equation equations inequality solve calculate compute computing
    estimate deduce infer logic logical why design designing tradeoff approach approaches
    explain explanation mechanism mechanisms cause causes impact effects alternatives in-depth
    analysiere bewerte vergleiche analyse analysez évalue analiza evalúa compara analise avalie analizza
    valuta confronta fondo profondeur ausführlich approfondita detalhada detallada
    """
)

CODE = words(
    """
    python javascript typescript java rust golang c++ c# kotlin swift ruby php scala haskell sql
    bash shell powershell regex function functions def class classes method methods api apis
    endpoint endpoints json yaml html css http async await thread threads threading compile
    compiler exception exceptions traceback stacktrace bug bugs unittest pytest docker kubernetes
    query queries script scripts code snippet library module package dataframe pandas numpy react
    django flask fastapi node npm git variable variables loop loops array arrays dict dictionary
    string strings integer null pointer segfault recursion lambda struct enum interface runtime
    typeerror valueerror nullpointerexception import return boolean iterator generator decorator
    schema migration orm cli repo pull commit linter refactor unit
    """
)

MATH = words(
    """
    total each per percent percentage times twice half third quarter remaining left average
    ratio rate sum difference product fraction profit discount interest costs price prices speed
    distance hours minutes altogether fewer calculate compute solve equation equations integer
    integers divisible remainder probability area perimeter volume radius triangle square cube
    sqrt math mathematics arithmetic multiply divide subtract minus plus
    """
)

NUMBER_WORDS = words(
    """
    one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen twenty thirty
    forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million dozen dozens half
    twice thrice double triple quarter quarters third thirds fourth fourths fifth fifths sixth eighth eighths
    tenth tenths percent
    """
)

# Fractions and ratios: proportional reasoning, where small models slip most in a word problem.
FRACTIONS = words(
    """
    half halves third thirds quarter quarters fourth fourths fifth fifths sixth sixths eighth eighths
    tenth tenths fraction fractions ratio ratios proportion proportional
    hälfte drittel viertel bruch verhältnis moitié tiers fraction proportion mitad tercio fracción
    proporción metade terço fração proporção metà terzo frazione proporzione
    """
)

SIMPLE = words(
    """
    hi hello hey thanks thank define definition meaning synonym synonyms antonym capital spell
    spelling joke translate translation rephrase paraphrase typo typos grammar tldr hallo bonjour
    hola ciao olá merci gracias danke grazie obrigado
    """
)

CREATIVE = words(
    """
    poem poems haiku story stories blog essay song lyrics limerick slogan tweet email letter speech
    roleplay role-play pretend imagine persuasive character characters dialogue sonnet tagline
    catchy headline narrative fictional fiction novel rap verse rhyme anecdote travel
    """
)

CONSTRAINT = words(
    """
    must exactly least most without ensure every only limit constraint constraints requirement
    requirements format words sentences paragraphs bullet bullets maximum minimum including
    handle support edge cases should
    """
)

# Verbs that ask for a deliverable (a text, code, a plan) rather than a fact.
DELIVERABLE = words(
    """
    write draft compose implement build create generate refactor design develop outline prepare
    example examples rédige rédigez écris écrivez schreib schreibe formulier formuliere erstelle escribe
    redacta crea escreva redija crie scrivi redigi crea implementa implementiere
    checklist agenda template workflow pros cons runbook manifest plan steps comparison
    beispiel exemple ejemplo exemplo esempio checkliste
    """
)

# Asking for advice or a recommendation: a judgement, not a look-up.
ADVICE_PHRASES = ("should i", "should we", "how should", "how would you", "what's the best", "what is the best",
                  "best way", "best practice", "pros and cons", "pros/cons", "recommend", "sensible", "trade-off",
                  "sollte ich", "devrais-je", "debería", "deveria", "dovrei")

# A request to keep the answer short.
BREVITY = words("briefly brief quick quickly concise concisely one-line two-line one-liner oneliner tldr eli5 "
             "kurz brève brièvement breve brevemente")
BREVITY_PHRASES = ("in one sentence", "in a sentence", "plain words", "plain english", "simple terms",
                   "yes or no", "two-line answer", "one-line answer")
# Chinese and Japanese words of hard and analytic work, matched as substrings.
CJK_HARD = ("设计", "架构", "分析", "取舍", "权衡", "证明", "算法", "分布式", "策略", "优化", "トレードオフ", "分散",
            "設計", "戦略", "アーキテクチャ", "証明", "アルゴリズム", "最適化", "分析")
CJK_DELIVERABLE = ("写", "编写", "实现", "書いて", "作成", "生成", "说明", "説明", "清单", "理由", "条件", "步骤",
                   "手順", "一覧", "比较", "比較")

# Openings that make a prompt a quick look-up when it is short.
SIMPLE_OPENINGS = ("what is ", "what's ", "who is ", "who was ", "when was ", "when did ", "where is ",
                   "define ", "translate ", "how do you say ", "what does ")

# Code words with an everyday meaning ("a yoga class", "the library", "a string of lights"): alone in a
# word problem they are not a sign of code.
CODE_EVERYDAY = words(
    """
    bug bugs class classes dictionary function functions integer interface library loop loops method methods
    migration module package pull queries query return ruby script scripts shell snippet string strings
    swift thread threads unit variable variables
    """
)

# Relations between quantities in a word problem; each one is another step ("3 more than twice as many").
MATH_RELATIONS = ("more than", "less than", "fewer than", "times as", "as many", "as much", "every", "rest of",
                  "mehr als", "weniger als", "plus que", "moins que", "más que", "menos que", "mais que")

# Phrases that mark step-by-step or multi-part work.
MULTI_STEP_PHRASES = ("step by step", "step-by-step", "first,", "then ", "finally", "and then",
                      "for each", "edge case", "how many", "how much", "time complexity", "big-o",
                      "big o", "race condition", "in detail", "trade-off", "tradeoff")
