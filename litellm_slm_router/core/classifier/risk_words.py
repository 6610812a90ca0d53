"""Word lists of the critical-action detector (pure data).

A risky verb alone never makes a task critical: it must be an instruction (not a question, a
hypothetical, a negation, a request to write code, or a statement about what somebody in a story
does or wants), and its clause must name an object of the same kind (a table, production, an
amount of money, a secret, admin rights, a security control). English, German, French, Spanish,
Portuguese and Italian are covered by word lists; Chinese and Japanese by substrings.
"""

from __future__ import annotations

from litellm_slm_router.core.classifier.score_words import words

# ---------------------------------------------------------------- risk (critical) lists

# Verbs (imperative/infinitive forms only: past tenses describe, they do not instruct),
# mapped to the kind of harm they can do.
DELETE = "delete"
DEPLOY = "deploy"
MONEY = "money"
SECRET = "secret"
ADMIN = "admin"
SECURITY = "security"

_RISK_VERB_TEXT = {
    DELETE: """
        delete drop truncate wipe purge erase destroy remove rm nuke obliterate shred clear
        overwrite reset
        lösche löschen lösch entferne entfernen leere leeren droppe vernichte
        supprime supprimez supprimer efface effacez effacer détruis détruisez vide videz
        elimina eliminar elimine borra borrar borre suprime suprimir vacía vacia
        apague apagar apaga exclua excluir exclui remova remover deleta deletar
        eliminare cancella cancellare rimuovi rimuovere svuota
        """,
    DEPLOY: """
        deploy release ship rollout push publish promote launch
        deploye deployen ausrollen veröffentliche veröffentlichen spiel spiele
        déploie déployez déployer publie publiez
        despliega desplegar despliegue publica publicar lanza
        implante implantar publique publicar implanta
        rilascia rilasciare distribuisci deploya pubblica pubblicare
        """,
    MONEY: """
        transfer wire send pay refund charge withdraw move deposit payout remit reimburse approve release
        überweise überweisen zahle zahlen bezahle bezahlen sende
        vire virer transfère transférez transférer paye payez payer rembourse remboursez envoie
        transfiere transferir paga pagar envía envia reembolsa reembolsar
        transfira pague envie reembolse
        trasferisci trasferire bonifica paga pagare invia rimborsa
        """,
    SECRET: """
        rotate revoke reset share send print show reveal display dump export expose leak paste
        store save commit use email post upload output echo cat give change login set
        zeige zeig teile sende ändere rotiere speichere verwende nutze
        affiche partage envoie change utilise
        muestra comparte envía cambia rota usa guarda
        mostre compartilhe envie troque use salve
        mostra condividi invia cambia usa salva usala usalo
        """,
    ADMIN: """
        grant give assign make add promote elevate escalate
        gib gebe erteile vergib mache
        donne donnez accorde accordez attribue
        otorga concede da asigna dale
        conceda dê atribua
        concedi dai assegna
        """,
    SECURITY: """
        disable deactivate bypass skip remove stop kill open weaken circumvent turn switch
        deaktiviere deaktivieren schalte abschalten umgehe
        désactive désactivez désactiver contourne
        desactiva desactivar deshabilita deshabilitar
        desative desativar desabilite desabilitar
        disattiva disattivare disabilita disabilitare
        """,
}

RISK_VERBS: dict[str, tuple[str, ...]] = {}
for _kind, _text in _RISK_VERB_TEXT.items():
    for _verb in _text.split():
        RISK_VERBS[_verb] = (*RISK_VERBS.get(_verb, ()), _kind)
RISK_VERB_SET = frozenset(RISK_VERBS)

# Multi-word risky verbs, checked as substrings of the lowered text.
RISK_PHRASES: dict[str, tuple[str, ...]] = {
    "turn off": (SECURITY,),
    "switch off": (SECURITY,),
    "shut off": (SECURITY,),
    "roll out": (DEPLOY,),
    "go live": (DEPLOY,),
    "log in": (SECRET,),
    "sign in": (SECRET,),
    "drop table": (DELETE,),
    "drop database": (DELETE,),
    "truncate table": (DELETE,),
    "delete from": (DELETE,),
    "rm -rf": (DELETE,),
    "force push": (DEPLOY,),
    "push --force": (DEPLOY,),
    "mets en production": (DEPLOY,),
}

# Objects that make a verb dangerous, per kind. Single words...
RISK_OBJECTS: dict[str, frozenset[str]] = {
    DELETE: words(
        """
        table tables database databases db dbs schema schemas records record rows row data dataset
        datasets customers customer users user accounts account bucket buckets backup backups
        snapshot snapshots logs collection collections index indices indexes cluster clusters repo
        repos repository repositories branch branches files file folder folders directory
        directories volume volumes disk disks partition namespace namespaces instance instances
        server servers vm vms prod production everything emails messages orders invoices
        transactions history s3 / * entries documents keyspace topic topics
        tabelle tabellen datenbank datenbanken daten datensätze kunden konten dateien backup
        produktion kundendaten
        base données enregistrements clients comptes fichiers sauvegardes
        tabla tablas datos registros clientes cuentas archivos copias producción
        tabela tabelas banco dados contas arquivos produção
        tabella tabelle dati clienti file produzione
        """
    ),
    DEPLOY: words(
        """
        prod production live main master customers everyone store
        produktion produktiv produktivsystem
        prodution mise
        producción produccion
        produção producao
        produzione
        """
    ),
    MONEY: words(
        """
        $ € £ ¥ usd eur gbp dollars dollar euros euro pounds funds money payment payments invoice
        invoices iban swift btc bitcoin eth crypto wallet salary payroll bank checking savings r$
        geld konto überweisung
        argent compte virement
        dinero cuenta fondos
        dinheiro reais conta fundos
        soldi conto fondi
        """
    ),
    SECRET: words(
        """
        password passwords passwd passphrase credential credentials secret secrets apikey api_key
        token tokens .env
        passwort kennwort zugangsdaten schlüssel
        identifiants clé clés
        contraseña credenciales clave claves
        senha credenciais chave chaves
        credenziali chiave chiavi
        """
    ),
    ADMIN: words(
        """
        admin admins administrator administrators root superuser sudo sudoers owner owners
        privileges privilege adminrechte administratorrechte administrateur administrador
        administradores amministratore amministratori
        """
    ),
    SECURITY: words(
        """
        mfa 2fa two-factor firewall antivirus tls ssl verification authentication auth encryption
        selinux apparmor waf edr csp defender audit auditd logging monitoring verify=false
        zwei-faktor verschlüsselung authentifizierung
        pare-feu authentification chiffrement
        cortafuegos autenticación cifrado
        autenticação criptografia
        autenticazione crittografia
        """
    ),
}
# ...and phrases (substrings of the clause).
RISK_OBJECT_PHRASES: dict[str, tuple[str, ...]] = {
    DELETE: (),
    DEPLOY: ("app store", "play store", "all users", "en producción", "em produção", "in produzione"),
    MONEY: (),
    SECRET: ("api key", "private key", "ssh key", "access key", "secret key", "mot de passe"),
    ADMIN: ("full access", "admin rights", "admin access", "owner role", "admin role"),
    SECURITY: ("two factor", "audit log", "security group", "rate limit", "branch protection",
               "certificate check", "cert verification"),
}

# "Do the <noun>" in Romance and Germanic languages: a light verb plus an action noun.
LIGHT_VERBS = words("fais faites fait faz faça haz hagan fai fate mach mache macht")
ACTION_NOUNS: dict[str, str] = {
    "virement": MONEY, "remboursement": MONEY, "reembolso": MONEY, "transferencia": MONEY,
    "transferência": MONEY, "bonifico": MONEY, "rimborso": MONEY, "überweisung": MONEY, "rückerstattung": MONEY,
    "pix": MONEY, "déploiement": DEPLOY, "despliegue": DEPLOY, "deploy": DEPLOY, "rilascio": DEPLOY,
}

# Commands that are destructive by themselves: an instruction to run one is critical.
COMMAND_LITERALS = (
    "rm -rf", "rm -r ", "rm -fr", "deletemany", "delete_many", "drop table", "drop database", "drop schema",
    "delete from", "truncate table", "flushall", "flushdb", "terraform apply", "terraform destroy",
    "kubectl delete", "helm upgrade", "helm install", "helm uninstall", "setenforce 0", "with superuser",
    "alter role", "grant all", "chmod 777", "push --force", "push -f ", "dd if=", "mkfs", "storage rm",
    "s3 rm", "s3 rb", "gsutil rm", "system prune", "dropdb", "iptables -f", "ufw disable", "verify=false",
    "--no-verify", "reset --hard", "git clean -fd", "del /s", "format c:",
)
# Code that deletes; critical only when the ask says to run it.
CODE_DESTRUCTIVE = ("os.remove", "shutil.rmtree", "rmtree", "unlink(", "os.rmdir", "rm -", "delete(", ".drop(",
                    "truncate", "deletemany", "delete from", "drop table")
# Verbs that run something.
EXEC_WORDS = words("run execute exec apply ssh connect trigger launch fire")
# A risky verb right after one of these is a statement ("I'd pay", "we will delete"), not an instruction.
SUBJECTS = words("i we i'd we'd they he she i'll we'll they'll would could should might may will did does can "
              "it's it who which that has have had a an the this my our your its his her their of per flat")
# "to <risky verb>" up to three words after one of these tells what somebody else wants, agreed or has to
# do ("she agreed to pay", "he has to transfer", "uses his bonus to pay"): a statement, unless the ask
# names "you" as the doer before the verb ("she wants you to pay the invoice").
INTENT_BEFORE_TO = words("wants wanted needs needed has had decides decided agrees agreed plans planned hopes hoped "
                      "tries tried chooses chose offers offered promises promised intends intended expects "
                      "expected uses used willing able unable")
# Words that make a sentence ending in "?" a real question, not an instruction with a tag ("delete the
# orders table on prod, ok?"): an alternative ("drop it or truncate it?") or a question word ("delete or
# archive, which is better?").
QUESTION_CUES = words("or vs versus whether which what what's whats how how's why should better safe safer oder ou ó "
                   "welche welcher wie warum quel quelle comment pourquoi cuál qué cómo qual quale")
# Questions for a quantity. An ask with numbers and such a question (or a question at its end) is a word
# problem, whose statements describe a situation ("her parents pay her $4 ... how much does she save?");
# there a risky verb instructs only when it opens its clause, after nothing but LEADING words ("transfer
# $500 to savings and tell me how much is left"), or follows a "you".
QUANTITY_QUESTIONS = ("how much", "how many", "wie viel", "wieviel", "combien", "cuánto", "cuánta", "cuántos",
                      "cuántas", "quanto", "quanta", "quantos", "quantas", "quanti", "quante")
# Every quantity question holds one of these (a test checks it): most texts have none, and five substring
# tests are cheaper than fifteen.
QUANTITY_STEMS = ("how m", "wie", "combien", "quant", "cuánt")
# Clause openings that make the clause a topic to discuss, not an instruction to carry out.
TOPIC_VERBS = words(
    """
    analyse analyze evaluate assess discuss review explain describe summarise summarize compare outline
    list document research investigate consider estimate calculate work figure proofread rewrite translate
    extract classify count format critique brainstorm plan check
    analysiere bewerte erkläre fasse vergleiche übersetze analyse évalue explique résume compare traduis
    analiza evalúa explica resume compara traduce analise avalie explique resuma compare traduza
    analizza valuta spiega riassumi confronta traduci
    """
)

# Words that open the critical-action scan (the scan itself is slower and runs only then).
DEPLOY_ITSELF = words("deploy deploye deployen déploie déployez déployer despliega desplegar implante implantar "
                      "deploya")

# Targets that make a deploy harmless.
NON_PROD_TARGETS = words("staging stage dev development test testing sandbox local localhost preview qa "
                      "demo branch feature")

# Data objects that are not data for the purpose of harm (text edits, caches).
HARMLESS_DELETE_OBJECTS = words("cache caches comma commas paragraph sentence word words line lines "
                             "whitespace duplicates typo typos formatting screen console")

# Sentence openings that ask *about* something rather than instruct.
ASK_OPENERS = words(
    """
    how what what's whats why when where which who whom whose is are was were does did explain
    describe teach summarize summarise define compare difference
    wie was warum wieso weshalb wann welche welcher welches erkläre erklär erklären beschreibe
    comment pourquoi quoi qu'est-ce quel quelle quels quelles explique expliquez décris
    cómo como qué que cuál cual cuáles explica explícame explique describe
    porquê quais qual explica explique descreva
    come perché perche cosa che quale quali spiega spiegami descrivi
    """
)
# Two-word openings that ask (checked on the first two tokens).
ASK_BIGRAMS = frozenset(
    {
        ("can", "i"), ("could", "i"), ("should", "i"), ("can", "we"), ("could", "we"), ("should", "we"),
        ("may", "i"), ("do", "i"), ("do", "we"), ("do", "you"), ("would", "it"), ("will", "it"),
        ("tell", "me"), ("show", "me"), ("help", "me"), ("teach", "me"), ("walk", "me"),
        ("i", "wonder"), ("i'm", "curious"), ("im", "curious"), ("i", "want"), ("i'd", "like"),
        ("kann", "ich"), ("soll", "ich"), ("sollte", "ich"), ("sollten", "wir"), ("puis-je", "vraiment"),
        ("est-ce", "que"), ("puedo", "yo"), ("debo", "yo"), ("posso", "io"), ("devo", "io"),
    }
)
# First words that ask when the second word is a pronoun of the speaker ("puedo borrar...").
ASK_MODAL_FIRST = words("puedo debo posso devo kann soll sollte puis-je dois-je devrais-je")
# Openings that make the rest a request to act.
DO_BIGRAMS = frozenset(
    {
        ("can", "you"), ("could", "you"), ("would", "you"), ("will", "you"), ("please", "can"),
        ("i", "need"), ("you", "must"), ("you", "should"), ("go", "ahead"),
    }
)
# Clause openings that make the clause hypothetical.
HYPOTHETICAL = words("if suppose supposing hypothetically imagine assuming assume wenn falls si supongamos "
                  "se supponiamo")
# Words that negate the instruction that follows in the same clause.
NEGATIONS = words(
    """
    not don't dont never without avoid no mustn't shouldn't refrain neither nor cannot can't
    nicht kein keine keinen niemals ohne ne pas n' jamais sans nunca sin não nao sem non mai senza
    """
)
# Words that end a negation's or a hypothetical's reach.
CLAUSE_BREAKS = words("but just only instead then rather otherwise aber sondern nur stattdessen mais "
                   "seulement juste plutôt pero sino solo sólo mas apenas ma invece soltanto")
# First words of a request to *write* something (code, a doc) rather than to act.
WRITE_VERBS = words("write create generate draft give make produce build show outline document "
                 "schreibe erstelle écris écrivez crée escribe crea genera escreva crie scrivi")
# Nouns that make a write request a request for an artefact, not an action.
ARTEFACTS = words(
    """
    script scripts function functions query queries command commands program code snippet playbook
    migration cron job sql bash terraform yaml workflow pipeline guide tutorial doc docs
    documentation runbook checklist policy post article example examples explanation test tests
    procedure plan proposal template skript funktion abfrage befehl fonction requête commande
    función consulta comando função consulta funzione model diagram report analysis spec design
    regex class method program
    """
)
# Politeness and urgency words that are skipped when finding a sentence's opening.
FILLERS = words("ok okay so hey hi please pls plz now also and then right alright well fyi btw bitte "
             "jetzt d'accord ahora vale agora ora adesso allora por favor per favore s'il vous plaît plait te")
# Words that may stand before an imperative verb where only a verb that leads its clause instructs (in a
# word problem's story and a sentence ending in "?"): "now transfer", "permanently erase".
LEADING = FILLERS | words(
    """
    just first next finally quickly kindly immediately asap urgently go ahead permanently completely fully
    entirely safely carefully manually directly simply automatically forcibly irreversibly
    sofort endgültig immédiatement définitivement inmediatamente definitivamente imediatamente subito
    """
)

# Chinese and Japanese, matched as substrings.
CJK_RISK_VERBS: dict[str, str] = {
    "删除": DELETE, "删掉": DELETE, "清空": DELETE, "删": DELETE, "削除": DELETE, "消去": DELETE,
    "部署": DEPLOY, "上线": DEPLOY, "发布": DEPLOY, "デプロイ": DEPLOY, "リリース": DEPLOY,
    "转账": MONEY, "汇款": MONEY, "支付": MONEY, "送金": MONEY, "振り込": MONEY, "振込": MONEY,
    "密码": SECRET, "密钥": SECRET, "パスワード": SECRET, "秘密鍵": SECRET,
    "管理员权限": ADMIN, "管理者権限": ADMIN,
    "禁用": SECURITY, "关闭防火墙": SECURITY, "無効化": SECURITY, "無効に": SECURITY,
}
CJK_OBJECTS: dict[str, tuple[str, ...]] = {
    DELETE: ("数据库", "表", "记录", "数据", "用户", "备份", "データベース", "テーブル", "データ", "レコード",
             "バックアップ", "ユーザー"),
    DEPLOY: ("生产", "正式环境", "线上", "本番"),
    MONEY: ("元", "美元", "欧元", "账户", "円", "ドル", "口座"),
    SECRET: ("密码", "密钥", "パスワード", "秘密鍵", "令牌", "トークン"),
    ADMIN: ("管理员", "管理者", "root"),
    SECURITY: ("防火墙", "双因素", "认证", "ファイアウォール", "二要素", "認証", "暗号化"),
}
CJK_ASK = ("如何", "怎么", "怎样", "为什么", "什么", "哪些", "吗", "？", "?", "之前", "どうやって", "どうすれば",
           "方法", "なぜ", "とは", "ですか", "でしょうか", "前に", "教えて")
CJK_NEGATIONS = ("不要", "别", "不用", "しないで", "ないでください", "しないでください")

# ---------------------------------------------------------------- the further kinds and words (risk_words_ext)

from litellm_slm_router.core.classifier import risk_words_ext as _ext  # noqa: E402

CHANGE, MESSAGE, EXPORT = _ext.CHANGE, _ext.MESSAGE, _ext.EXPORT
for _kind, _text in _ext.EXTRA_VERBS.items():
    for _verb in _text.split():
        if _kind not in RISK_VERBS.get(_verb, ()):
            RISK_VERBS[_verb] = (*RISK_VERBS.get(_verb, ()), _kind)


def _gerunds(verb: str) -> tuple[str, ...]:
    """English -ing forms of a verb: "wipe" -> "wiping", "drop" -> "dropping", "push" -> "pushing"."""
    forms = [verb + "ing"]
    if verb.endswith("e"):
        forms.append(verb[:-1] + "ing")
    if len(verb) >= 3 and verb[-1] in "bdglmnprt" and verb[-2] in "aeiou" and verb[-3] not in "aeiou":
        forms.append(verb + verb[-1] + "ing")
    return tuple(forms)


# Gerunds of the ASCII risky verbs, read only after GERUND_LEADS ("would you mind deleting ...").
GERUNDS: dict[str, tuple[str, ...]] = {g: kinds for v, kinds in RISK_VERBS.items() if v.isascii() and v.isalpha()
                                       for g in _gerunds(v)}
PARTICIPLES: dict[str, tuple[str, ...]] = {
    form: kinds for v, kinds in RISK_VERBS.items() if v.isascii() and v.isalpha()
    for form in (v + "ed", v[:-1] + "ed" if v.endswith("e") else v + "ed", v + v[-1] + "ed")}
PARTICIPLES.update(_ext.IRREGULAR_PARTICIPLES)
COMMAND_LITERALS = COMMAND_LITERALS + _ext.REVEAL_LITERALS
RISK_VERB_SET = frozenset(RISK_VERBS)
RISK_PHRASES.update(_ext.EXTRA_PHRASES)
RISK_OBJECTS = {**RISK_OBJECTS, CHANGE: words(_ext.EXTRA_OBJECTS[CHANGE]) | _ext.PROD_WORDS,
                MESSAGE: words(_ext.EXTRA_OBJECTS[MESSAGE]) | _ext.SINGLE_AUDIENCE,
                EXPORT: words(_ext.EXTRA_OBJECTS[EXPORT])}
for _kind in (DELETE, MONEY, SECRET, ADMIN, SECURITY):
    RISK_OBJECTS[_kind] = RISK_OBJECTS[_kind] | words(_ext.EXTRA_OBJECTS[_kind])
RISK_OBJECT_PHRASES = {kind: RISK_OBJECT_PHRASES.get(kind, ()) + _ext.EXTRA_OBJECT_PHRASES.get(kind, ())
                       for kind in RISK_OBJECTS}
LIGHT_VERBS = LIGHT_VERBS | _ext.LIGHT_VERBS
ARTEFACTS = ARTEFACTS | _ext.ARTEFACTS
ACTION_NOUNS.update(_ext.ACTION_NOUNS)
ASK_OPENERS = ASK_OPENERS | _ext.ASK_OPENERS_NL
NEGATIONS = NEGATIONS | _ext.NEGATIONS_NL
CJK_RISK_VERBS.update(_ext.CJK_EXTRA_VERBS)
for _kind, _objects in _ext.CJK_EXTRA_OBJECTS.items():
    CJK_OBJECTS[_kind] = CJK_OBJECTS.get(_kind, ()) + _objects
RISK_OBJECTS[DEPLOY] = RISK_OBJECTS[DEPLOY] | _ext.REGISTRIES
