# hundred : ce que voient les lectrices et lecteurs, en français (vouvoiement).
# Modèle et consignes : locales/en/hundred.ftl.

## Les dates (« 2 décembre 2026 », « 1er mai 2026 »)

date = { $day ->
    [1] 1er
   *[other] { $day }
} { $month } { $year }
month-1 = janvier
month-2 = février
month-3 = mars
month-4 = avril
month-5 = mai
month-6 = juin
month-7 = juillet
month-8 = août
month-9 = septembre
month-10 = octobre
month-11 = novembre
month-12 = décembre

## La page d’inscription

consent-default = Oui, envoyez-moi la newsletter par e-mail. Je peux me désabonner à tout moment grâce au lien présent dans chaque message.
subscribe-title = S’abonner à { $list }
subscribe-intro = Indiquez votre adresse : nous vous enverrons un message pour confirmer qu’il s’agit bien de vous.
subscribe-email = Adresse e-mail
subscribe-name = Nom
subscribe-optional = (facultatif)
subscribe-honeypot = Laissez ce champ vide
subscribe-button = S’abonner

## Les réponses à une inscription

thanks-title = Presque terminé
thanks-message = Merci ! Un message de notre part vous attend dans votre boîte de réception : confirmez votre abonnement avec le bouton qu’il contient. S’il n’est pas arrivé d’ici quelques minutes, regardez dans vos courriers indésirables.
signup-unreadable = Le formulaire n’a pas pu être lu. Veuillez le remplir à nouveau.
signup-refused = Cette inscription n’a pas pu être acceptée.
signup-again = Veuillez vérifier le formulaire et appuyer à nouveau sur le bouton.
signup-too-quick = C’était plus rapide que prévu. Veuillez vérifier le formulaire et appuyer à nouveau sur le bouton.
signup-too-old = Cette page est restée ouverte longtemps. Veuillez appuyer à nouveau sur le bouton.
email-empty = Veuillez saisir une adresse e-mail.
email-too-long = Cette adresse est trop longue.
email-missing-at = Une adresse e-mail contient un seul @ entre un nom et un domaine, comme nom@example.com.
email-bad-local-part = La partie avant le @ n’est pas valide.
email-bad-domain = La partie après le @ ne ressemble pas à un domaine complet, comme example.com.
email-whitespace = Une adresse e-mail ne peut contenir ni espaces ni caractères de contrôle.
name-too-long = Ce nom est trop long (100 caractères au maximum).
name-control-characters = Un nom ne peut contenir ni retours à la ligne ni caractères de contrôle.

## Le formulaire d’inscription pour le site web (affiché par son script)

snippet-sending = Envoi en cours…
snippet-not-sent = L’inscription n’a pas pu être envoyée. Veuillez réessayer dans un instant.

## Les erreurs sur une page publique

error-check-title = Veuillez vérifier votre saisie
error-too-many-title = Trop de tentatives
error-too-many-message = Trop d’inscriptions sont venues de votre réseau à l’instant. Veuillez patienter quelques minutes, puis réessayer.
error-unexpected-title = Une erreur s’est produite
error-unexpected-message = Une erreur s’est produite de notre côté. Veuillez réessayer dans un instant.

## La confirmation

confirm-title = Confirmez votre abonnement
confirm-intro = Plus qu’une étape : appuyez sur le bouton pour commencer à recevoir { $list }.
confirm-button = Oui, je m’abonne
confirm-ignore = Si vous n’avez rien demandé, ignorez cette page : sans votre confirmation, vous ne recevrez rien de notre part.
confirmed-title = Votre abonnement est confirmé
confirmed-thanks = Merci de votre confirmation. Un message de bienvenue est en route vers votre boîte de réception.
confirmed-unsubscribe = Chaque message contient un lien pour vous désabonner en un clic.

## Un lien qui ne fonctionne plus

link-invalid-title = Lien non valide
link-expired = Ce lien a expiré.
link-invalid = Ce lien n’est pas (ou plus) valide.
link-invalid-unsubscribe = Nous n’avons pas reconnu ce lien de désabonnement ; il a peut-être été tronqué lors d’un copier-coller. Ouvrez à nouveau le lien de désabonnement en bas de l’un de nos messages, ou répondez simplement à l’un d’eux en nous demandant de vous retirer de la liste : nous le ferons.
link-invalid-keep = Nous n’avons pas reconnu ce lien ; il a peut-être été tronqué lors d’un copier-coller. Appuyez à nouveau sur le bouton de notre message, ou répondez-y simplement pour nous dire que vous souhaitez continuer à recevoir { $list }.
link-invalid-confirm = Les liens de confirmation d’abonnement sont valables une semaine. Inscrivez-vous simplement à nouveau : nous vous en enverrons un nouveau.
link-invalid-sign-up = S’inscrire à nouveau

## Continuer à recevoir (la réponse à « Souhaitez-vous toujours la recevoir ? »)

keep-title = Continuer à recevoir
keep-heading = Continuer à recevoir { $list } ?
keep-sending-html = Nous continuerons à l’envoyer à <strong>{ $email }</strong>.
keep-button = Oui, continuez à me l’envoyer
kept-title = Merci
kept-message = Nous continuerons à envoyer { $list } à { $email }.
not-subscribed-title = Vous n’êtes pas sur la liste
not-subscribed-message = { $email } ne reçoit plus { $list }. Pour vous réabonner, inscrivez-vous sur { $url }.

## Le désabonnement

unsubscribe-title = Se désabonner
unsubscribe-question-html = Ne plus envoyer { $list } à <strong>{ $email }</strong> ?
unsubscribe-button = Me désabonner
unsubscribe-already-title = Désabonnement déjà effectué
unsubscribe-already-html = <strong>{ $email }</strong> ne reçoit plus { $list }.
unsubscribed-title = Désabonnement
unsubscribed-heading = Votre désabonnement est confirmé
unsubscribed-done-html = <strong>{ $email }</strong> ne recevra plus { $list }. C’est effectif immédiatement.
unsubscribed-again = Vous avez changé d’avis ? Vous pouvez vous réabonner ; nous vous demanderons d’abord de confirmer par e-mail.
unsubscribed-button = Me réabonner

## Chaque message

mail-hello = Bonjour,
mail-hello-name = Bonjour { $name },
mail-open-link = Ou ouvrez ce lien :
footer-why = Vous recevez { $list } suite à votre inscription avec l’adresse { $email }.
footer-unsubscribe = Se désabonner en un clic
footer-unsubscribe-label = Se désabonner en un clic :
footer-reply = Ou répondez simplement : chaque réponse est lue par une personne.
footer-confirmation = Vous recevez ce message parce que quelqu’un a demandé à inscrire { $email } à { $list }.
footer-not-me = Ce n’était pas vous ? Ne plus m’écrire
footer-not-me-label = Ce n’était pas vous ? Ne plus m’écrire :
header-web-version = Voir dans le navigateur
header-web-version-label = Voir dans le navigateur :
footer-subscription-why = Voir ce que nous savons de vous, faire une pause ou changer vos informations :
footer-subscription = Votre abonnement
footer-subscription-label = Votre abonnement (vos données, pause, modifications) :

## Le message de confirmation

confirmation-subject = Veuillez confirmer votre abonnement à { $list }
confirmation-ask-html = Veuillez confirmer que vous souhaitez recevoir { $list } à l’adresse <strong>{ $email }</strong>.
confirmation-ask = Veuillez confirmer que vous souhaitez recevoir { $list } à l’adresse { $email } :
confirmation-button = Confirmer mon abonnement
confirmation-valid = Le lien est valable { $days ->
    [one] un jour
   *[other] { $days } jours
}.
confirmation-consent = Ce que vous avez accepté : « { $consent } »
confirmation-ignore = Si vous n’avez rien demandé, ignorez ce message : sans votre confirmation, vous ne recevrez plus rien de notre part.

## Le message de bienvenue

welcome-subject = Bienvenue chez { $list }
welcome-subscribed = Votre abonnement à { $list } est confirmé. Merci de vouloir recevoir de nos nouvelles.
welcome-reply = Vous pouvez simplement répondre à n’importe lequel de nos messages : chaque réponse est lue par une personne.

## La relance (« Souhaitez-vous toujours la recevoir ? »)

repermission-subject = Souhaitez-vous toujours recevoir { $list } ?
repermission-ask = Nous n’avons pas eu de vos nouvelles depuis un moment, et nous ne voulons écrire qu’aux personnes qui souhaitent nous lire. Souhaitez-vous toujours recevoir { $list } ?
repermission-keep-label = Oui, continuez à me l’envoyer :
repermission-deadline = Sans réponse de votre part d’ici le { $date }, nous cesserons peut-être de vous écrire. Sans rancune : vous pourrez toujours vous réabonner.

## Le message de test (au propriétaire, depuis la page des réglages)

test-message-subject = Message de test de { $list }
test-message-intro = Ceci est un message de test envoyé par hundred, le logiciel de newsletter derrière { $list }.
test-message-why = Il a été envoyé depuis la page « Settings » ({ $url }) pour vérifier { $smtp ->
    [yes] le serveur de messagerie
   *[other] les réglages d’envoi
}. Si vous lisez ce message, le courrier de votre liste arrive bien.
test-message-nothing = Il n’y a rien à faire ; vous pouvez supprimer ce message.

## The public archive (/archive)

archive-title = { $list } : numéros précédents
archive-heading = Numéros précédents
archive-empty = Rien pour l’instant : les numéros apparaissent ici une fois envoyés.
archive-page = Page { $page } sur { $pages }
archive-pages-label = Autres numéros
archive-newer = Numéros plus récents
archive-older = Numéros plus anciens
archive-subscribe = Recevoir les prochains numéros par e-mail
archive-feed = Suivre par flux (Atom)
archive-back = Tous les numéros précédents
archive-signup-heading = Recevoir { $list } par e-mail
archive-not-found-title = Absent des archives
archive-not-found = Ce numéro n’est pas dans les archives : l’adresse est peut-être mal saisie, ou le numéro a été retiré.
archive-see-all = Voir tous les numéros précédents

## La page de chaque lecteur (/me/…)

me-title = Votre abonnement à { $list }
me-held = Ce que nous gardons sur vous
me-address = Adresse
me-name = Nom
me-no-name = Vous n’avez pas donné de nom.
me-status = État
me-status-confirmed = Abonné : vous recevez chaque numéro.
me-status-pending = Pas encore confirmé : vous ne recevez rien avant d’avoir confirmé.
me-status-unsubscribed = Désabonné le { $date } : vous ne recevez plus rien.
me-status-paused = En pause jusqu’au { $date } : aucun numéro d’ici là.
me-status-other = Vous ne recevez pas de numéros.
me-agreed = Comment vous avez accepté
me-agreed-line = Vous vous êtes inscrit le { $date } { $how }.
me-confirmed-line = Vous avez confirmé le { $date }.
me-stated = Ajouté par le responsable de la liste, qui a noté : { $how }
me-consent-text = Le texte qui vous a été montré :
me-how-hosted_form = sur la page d’inscription
me-how-website_form = avec le formulaire du site de la liste
me-how-json = par le site de la liste
me-how-api = par le logiciel de la liste
me-how-import = (le responsable a importé votre adresse)
me-how-admin = (le responsable a ajouté votre adresse)
me-how-archive = depuis les archives des numéros passés
me-how-other = ({ $source })
me-sent = Envoyé récemment
me-sent-none = Rien pour l’instant.
me-sent-line = { $subject }, { $date }
me-change-name = Changer votre nom
me-name-label = Votre nom (laissez vide pour aucun)
me-name-button = Enregistrer le nom
me-name-saved = Votre nom est enregistré.
me-pause = Faire une pause
me-pause-why = Aucun numéro jusqu’à la date ; ensuite ils reviennent, sans rien demander. La pause ne compte pas contre vous.
me-pause-30 = Pause de 30 jours
me-pause-90 = Pause de 90 jours
me-paused = En pause jusqu’au { $date }.
me-download = Télécharger vos données
me-download-why = Tout ce que nous gardons sur vous, en un fichier (JSON).
me-download-button = Télécharger mes données
me-leave = Partir
me-unsubscribe-button = Me désabonner
me-unsubscribed = Vous êtes désabonné : vous ne recevez plus rien.
me-erase-button = M’effacer entièrement…
me-erase-title = Vous effacer de { $list } ?
me-erase-what = Votre adresse, votre nom, l’historique de votre consentement et ce que vous nous avez écrit disparaissent pour de bon ; ce qui a été compté reste, sans vous. Cette page cesse de fonctionner, et rien ne peut rendre vos données.
me-erase-confirm = Oui, m’effacer
me-erase-cancel = Non, revenir
me-erased-title = Vous êtes effacé
me-erased = Tout ce que { $list } gardait sur vous a disparu. Si vous vous inscrivez de nouveau un jour, vous repartez de zéro.
me-link-invalid = Nous n’avons pas reconnu ce lien : il a peut-être été coupé en le copiant, ou l’abonnement auquel il appartenait a été effacé. Le lien « Votre abonnement » en bas de nos derniers messages ramène ici.
me-name-refused = Le nom n’a pas été enregistré.
me-not-subscribed = Vous n’êtes pas abonné : il n’y a rien à mettre en pause ni à quitter.
me-pause-length = Une pause dure 30 ou 90 jours.
