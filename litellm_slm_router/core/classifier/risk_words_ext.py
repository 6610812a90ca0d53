"""More word lists of the critical-action detector (pure data), merged into :mod:`risk_words`.

Two kinds of harm beyond the first six: a message to many people at once (``message``) and personal
or customer data sent or copied out of its system (``export``). Also: changes to live systems other
than a deploy (restart, scale, roll back, shut down, DNS), access granted or revoked, keys and tokens
created, money verbs that are money by themselves (a refund), English light verbs ("process the
refund"), polite gerunds ("would you mind rolling out"), cloud and database command lines, Dutch, and
markers of a sandbox or a test that make an action harmless when no production system is named.
"""

from __future__ import annotations

from litellm_slm_router.core.classifier.score_words import words

MESSAGE = "message"
EXPORT = "export"
CHANGE = "change"  # a change to a live production system other than a deploy

# Verbs per kind, added to risk_words' own lists (the kinds are the strings of risk_words).
EXTRA_VERBS: dict[str, str] = {
    "delete": """
        terminate deprovision decommission uninstall deregister flush invalidate evict
        verwijder verwijderen wis wissen leeg
        """,
    CHANGE: """
        restart reboot scale rollback revert redeploy failover shutdown stop kill change update modify
        point switch migrate upgrade downgrade patch apply edit replace resize drain cordon
        starte neustarten redémarre redémarrez redémarrer reinicia reiniciar reinicie riavvia riavviare
        herstart herstarten uitrollen rol roll
        """,
    "money": """
        issue credit process initiate capture erstatte erstatten betaal betalen terugbetalen stort
        """,
    "secret": """
        create generate regenerate mint issue decrypt reveal
        """,
    "admin": """
        revoke remove invite entziehe entziehen retire retirez revoca revocar revogue revoga
        geef ken
        """,
    "security": """
        pause suspend whitelist allowlist allow permit expose
        """,
    MESSAGE: """
        send email e-mail mail blast broadcast notify message text sms push post announce dm
        schick schicke sende verschicke benachrichtige informiere envoie envoyez envoyer préviens
        envía envia envie manda mande enviar avisa notifica invia mandare stuur verstuur mail ping
        unsubscribe
        """,
    EXPORT: """
        export dump download upload share send copy forward leak publish post email
        exportiere exporte exporta exportar exporter exportez esporta esportare partage partagez
        comparte compartir compartilhe condividi teile lade exporteer deel stuur
        """,
}

# Single-word objects per kind, added to risk_words' own.
EXTRA_OBJECTS: dict[str, str] = {
    "delete": """
        klanten gebruikers tabel tabellen gegevens productiedatabase databank
        """,
    CHANGE: """
        dns load-balancer
        """,
    "money": """
        credit credits balance balances payout payouts card cards refund refunds stripe paypal
        geld rekening
        """,
    "secret": """
        ssh kubeconfig certificate certificates cert wachtwoord wachtwoorden sleutel
        """,
    "admin": """
        access permissions permission rights role roles owners membership zugriffsrechte rechte
        droits acceso accesso acesso permisos rechten toegang beheerder beheerdersrechten
        """,
    "security": """
        fraud captcha sso backups alerting ids ips sandboxing
        """,
    MESSAGE: """
        customers clients users subscribers everyone everybody employees staff members recipients
        contacts followers audience list company kunden mitarbeiter clients utilisateurs abonnés
        clientes usuarios suscriptores clienti utenti iscritti klanten gebruikers iedereen
        drivers agents partners merchants sellers vendors tenants residents students parents patients
        volunteers donors colleagues managers workers riders guests attendees participants prospects
        shoppers buyers owners teams departments engineers developers people
        empleados trabajadores employés salariés collaborateurs dipendenti funcionários colaboradores
        medewerkers werknemers nutzer benutzer abonnenten
        """,
    EXPORT: """
        customers users clients patients pii personal addresses emails
        phone phones ssn salary salaries wages payroll medical passport passports iban
        kundendaten kunden données clientes datos dati
        dados klantgegevens klanten gebruikers
        """,
}
EXTRA_OBJECT_PHRASES: dict[str, tuple[str, ...]] = {
    CHANGE: ("load balancer", "live site", "live system"),
    "admin": ("access to", "access for", "access on", "'s access", "read access", "write access", "all access"),
    "secret": ("access token", "service account key", "deploy key"),
    "security": ("fraud rules", "fraud check", "fraud detection", "fraud filter"),
    MESSAGE: ("mailing list", "all hands", "all-hands", "whole company", "entire company", "all staff"),
    EXPORT: ("user database", "customer database", "users table", "customers table", "customer data",
             "user data", "personal data", "customer list", "phone numbers", "home addresses",
             "patient records", "patient data", "health records", "customer records", "user records",
             "employee records", "employee data", "credit card numbers"),
}
EXTRA_PHRASES: dict[str, tuple[str, ...]] = {
    "shut down": (CHANGE,), "roll back": (CHANGE,), "rolling out": ("deploy",), "rolling back": (CHANGE,),
    "scale down": (CHANGE,), "scale to": (CHANGE,), "tear down": ("delete",), "take down": (CHANGE,),
    "spin down": (CHANGE,), "pay out": ("money",), "wipe out": ("delete",), "send out": (MESSAGE,),
    "maak over": ("money",),
}

# A verb and a particle a few words after it ("take the site offline", "hand over the database",
# "top up the wallet", "make the bucket public"): the pair instructs the kind.
PARTICLE_VERBS: dict[str, dict[str, str]] = {
    "take": {"offline": CHANGE, "down": CHANGE}, "put": {"offline": CHANGE},
    "bring": {"down": CHANGE, "offline": CHANGE},
    "hand": {"over": EXPORT}, "top": {"up": "money"}, "make": {"public": EXPORT}, "open": {"up": "security"},
}
# Where data lives: made public, any of these is data sent out.
DATA_STORES = words("bucket buckets repo repository database databases table tables drive folder dataset datasets "
                    "dashboard spreadsheet sheet")
# Package registries and stores: publishing to one is a release to everyone.
REGISTRIES = words("npm pypi rubygems nuget maven crates.io dockerhub homebrew")

# Money verbs that are money by themselves: "refund order 88213" names no amount.
MONEY_ITSELF = words("refund reimburse payout rembourse remboursez rembourser reembolsa reembolsar reembolse "
                     "rimborsa rimborsare erstatte erstatten terugbetalen")
# English light verbs before an action noun ("process the refund", "issue a payout").
LIGHT_VERBS = words("process issue initiate make complete submit perform execute")
ACTION_NOUNS: dict[str, str] = {"refund": "money", "payment": "money", "payout": "money", "transfer": "money",
                                "wire": "money", "reimbursement": "money", "rollback": CHANGE,
                                "deployment": "deploy", "failover": CHANGE, "terugbetaling": "money"}
# Verbs that are as often nouns ("the blog post", "a text", "the update"): they instruct only when they
# lead their clause ("post it to #general", "please email everyone", "I need you to text them").
NOUNLIKE = words("post email e-mail mail text message push dump export share release transfer wire charge credit "
                 "issue change update patch switch point process test stop kill set order cancel copy upload "
                 "download sms dm blast notify broadcast forward")
# "We need the service rolled back", "I want the table deleted": a past participle after one of these instructs.
NEED_WORDS = words("need needs want wants get have")
IRREGULAR_PARTICIPLES = {"shut": ("change",), "sent": ("message", "money"), "paid": ("money",),
                         "rolled": ("change",), "wiped": ("delete",), "dropped": ("delete",)}
# A gerund instructs after these ("would you mind rolling out", "go ahead with deleting").
GERUND_LEADS = words("mind with start begin proceed keep continue finish")

# A message audience counts when it is many: a word for all of them, a list or a channel.
QUANTIFIERS = words("all every each whole entire everyone everybody our alle allen tous toutes todos todas "
                    "todo tutti tutte iedereen")
# Members of an audience, singular: many only after "every" or "each".
SINGLE_AUDIENCE = words("customer client user subscriber employee member contact kunde client cliente utente klant")
# Sandboxes and tests: an action on one of these harms nothing, unless production is named too.
SANDBOX = words("minikube docker-compose localhost locally sandbox test-mode dummy fake my-laptop laptop "
                "mock test testing dry-run --dry-run")
SANDBOX_PHRASES = ("test mode", "dev mode", "my laptop", "my own", "-dev", "kind cluster", "to myself", "to me ")
# Personal data made harmless.
ANONYMISED = words("anonymised anonymized aggregate aggregated anonymous pseudonymised statistics totals")

# Command-line tools that change real systems; a command of one that mutates is critical when instructed.
CLI_TOOLS = words("aws gcloud az kubectl helm heroku doctl flyctl terraform vault gh stripe psql mysql "
                  "redis-cli mongo mongosh ansible-playbook pulumi gsutil")
CLI_MUTATING = words(
    """
    delete destroy terminate terminate-instances remove rm drop purge scale rollout apply create update put set
    revoke grant attach detach stop restart reboot deploy upgrade uninstall install refunds payouts transfers
    charges patch replace drain cordon truncate flushall import rb mb cp mv sync
    """
)
# Commands that reveal a secret (read-only, but revealing secrets is high-stakes).
REVEAL_LITERALS = ("base64 -d", "base64 --decode", "vault kv get", "vault read ", "get-secret-value", "printenv",
                   "cat .env", "cat ~/.aws/credentials", "cat ~/.ssh/id_")
CLI_SAFE = words("--dry-run dry-run plan describe get list ls status show logs version help explain diff")

# Production itself, in the languages covered (also "prod-eu", "billing-prod", "produktionsdatenbank").
PROD_WORDS = words("prod production produktion produktiv productie producción produccion produção producao "
                   "produzione live prd")
PROD_PREFIXES = ("prod-", "prod_", "production", "produktion", "productie", "produzione", "producción")
PROD_INFIXES = ("-prod", "_prod", ".prod")

# More nouns that make a write request a request for an artefact ("write a GRANT setup that gives ...").
ARTEFACTS = words("setup config configuration statement statements manifest rule rules email letter message "
                  "draft template announcement reply")

# Dutch.
ASK_OPENERS_NL = words("hoe wat waarom wanneer welke welk kan mag moet wie leg")
NEGATIONS_NL = words("niet geen nooit zonder")

# Chinese and Japanese.
CJK_EXTRA_VERBS: dict[str, str] = {"群发": MESSAGE, "一斉送信": MESSAGE, "一斉に送": MESSAGE, "导出": EXPORT,
                                   "发送": MESSAGE, "推送": MESSAGE,
                                   "エクスポート": EXPORT, "重启": CHANGE, "再起動": CHANGE, "回滚": CHANGE,
                                   "フラッシュ": "delete"}
CJK_EXTRA_OBJECTS: dict[str, tuple[str, ...]] = {
    MESSAGE: ("所有", "全体", "全部", "全ユーザー", "全員", "全顧客", "すべての", "全て"),
    EXPORT: ("客户", "用户", "個人情報", "顧客", "个人信息"),
    CHANGE: ("生产", "线上", "本番"),
    "delete": ("本番", "生产", "线上", "Redis", "redis"),
}
# Verbs that are critical by themselves in CJK text (no object needed).
CJK_ITSELF = {"返金": "money", "退款": "money"}
