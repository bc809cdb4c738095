"""Write examples/instagram_export.jsonl: a small synthetic Instagram comment export.

Every comment text below was written for this project; nothing comes from a dataset. The
export mixes genuine comments (questions, praise, fan emoji, replies, other languages,
typos, disagreement, long comments) with a planted bot campaign on six posts of two creators:
promo and scam comments, and copy-paste generic praise from one set of bot accounts, posted
in bursts right after publication. The truth is in the passthrough column `planted`
("promo" | "scam" | "generic_campaign" | null). Deterministic: same seed, same bytes.

    .venv/bin/python scripts/make_example_export.py [--seed 20260302] [-o PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "examples" / "instagram_export.jsonl"
CUTOFF = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # the moment the export was taken


@dataclass(frozen=True)
class Post:
    owner: str
    key: str  # short name used only inside this script
    published: str
    general: int  # short all-purpose genuine comments on top of the post's own
    bots: bool  # carries the planted campaign


POSTS = [
    Post("coach.lena.fit", "glutes", "2026-03-02T17:30:00Z", 2, True),
    Post("coach.lena.fit", "mealprep", "2026-03-06T16:00:00Z", 3, True),
    Post("coach.lena.fit", "pullup", "2026-03-10T18:15:00Z", 2, True),
    Post("coach.lena.fit", "mobility", "2026-03-15T07:45:00Z", 4, False),
    Post("coach.lena.fit", "rest", "2026-03-21T12:00:00Z", 2, False),
    Post("milo.wanders", "lisbon", "2026-03-01T20:10:00Z", 2, False),
    Post("milo.wanders", "faroe", "2026-03-07T09:00:00Z", 3, False),
    Post("milo.wanders", "nighttrain", "2026-03-12T19:30:00Z", 1, False),
    Post("milo.wanders", "hokkaido", "2026-03-18T06:20:00Z", 3, False),
    Post("milo.wanders", "camerabag", "2026-03-25T15:00:00Z", 2, False),
    Post("amara.cooks", "jollof", "2026-03-03T13:00:00Z", 2, False),
    Post("amara.cooks", "orzo", "2026-03-08T17:45:00Z", 2, True),
    Post("amara.cooks", "focaccia", "2026-03-13T10:30:00Z", 1, True),
    Post("amara.cooks", "noodles", "2026-03-19T18:00:00Z", 2, True),
    Post("amara.cooks", "tacos", "2026-03-26T17:00:00Z", 2, False),
    Post("glowroot.skin", "barrier", "2026-03-04T14:00:00Z", 2, False),
    Post("glowroot.skin", "actives", "2026-03-11T15:30:00Z", 2, False),
    Post("glowroot.skin", "jars", "2026-03-17T11:00:00Z", 1, False),
    Post("glowroot.skin", "fragrance", "2026-03-23T16:45:00Z", 2, False),
    Post("glowroot.skin", "restock", "2026-03-30T09:00:00Z", 2, False),
]

# Comments about each post's content, disagreement and long ones included.
ABOUT_POST = {
    "glutes": [
        "Which band resistance are you using for the kickbacks? mine feels way too light",
        "Did this last night and I can barely sit today 😂 worth it",
        "Is 3 rounds enough or should beginners start with 2?",
        "the single leg bridge is so much harder than it looks wow",
        "Love that there's no equipment needed, I travel a lot for work",
        "Could I do this every day or do glutes need rest too?",
        "form tip on the curtsy lunge at 0:42 was super helpful, my knee always caved in",
        "Not sure about your knee position on the lunges, looks like it goes way past the toes",
        "Quick question for anyone who's done this longer: I feel it more in my lower back "
        "than my glutes on the bridges. I've tried squeezing harder and tucking my pelvis, but "
        "it still happens after the second round. Is it a form thing or do I just need to "
        "build up slowly?",
    ],
    "mealprep": [
        "What brand are those glass containers? the lids on mine always crack",
        "$40 for the whole week?? where do you shop, groceries here are insane",
        "Can the chicken and rice be frozen or only fridge?",
        "Made the turkey chili version, my partner asked for it again this week",
        "How many grams of protein per box roughly?",
        "Vegetarian swap for the chicken? tofu or chickpeas?",
        "Sunday prep saves my weekday sanity honestly, thanks for the list",
    ],
    "pullup": [
        "34 and got my first one last month too!! negatives were the game changer",
        "How long did it take you from dead hang to the first full rep?",
        "Do you think the assisted machine or bands are better to start with?",
        "The part about grip strength is so underrated",
        "I'm 41 and still stuck at the flexed arm hang 😅 this gives me hope",
        "scap pulls felt useless at first but now I get it",
        "what was your weekly schedule for this, 3x a week?",
    ],
    "mobility": [
        "My lower back after 9 hours at a desk needed this 🙏",
        "Can I do this before a run or is it more for the evening?",
        "The thoracic rotations cracked everything in my spine, in a good way",
        "saved, doing it at lunch tomorrow",
        "Any tips if my hip flexors are super tight? the lunge stretch hurts",
        "Sending this to my whole team at work lol",
        "10 minutes is doable, 45 minute routines never happen for me",
    ],
    "rest": [
        "Needed to hear this, I always feel guilty skipping the gym",
        "Do you still walk on rest days or fully off?",
        "Two rest days made my lifts go up, no joke",
        "What do you eat on rest days, same calories?",
        "Active recovery vs full rest, which do you prefer?",
        "my coach says one is enough, now I'm confused 🤔",
        "sleep is the real supplement, agreed",
        "Respectfully, rest days are overrated if you sleep well",
    ],
    "lisbon": [
        "Which viewpoint is this? Senhora do Monte?",
        "The colour of the sky against the tram lines, perfect timing",
        "Was this handheld or on a tripod?",
        "Lisbon at blue hour is unreal, I was there in October",
        "the little window light in the bottom left makes the whole shot",
        "What lens? looks like a 35",
        "I miss this city so much",
    ],
    "faroe": [
        "The fog makes it look like the end of the world, in the best way",
        "How windy was it? I heard you can barely stand up there",
        "Did you need a permit for the hike to this spot?",
        "long exposure on the water? how many seconds",
        "This is going straight to my wallpaper",
        "I've seen this waterfall 100 times online but never in fog like this",
        "Was the drive from Tórshavn ok in March?",
        "For anyone planning a trip here: go in the shoulder season, bring proper rain gear "
        "and give yourself spare days for the weather. We waited three days for the fog to "
        "lift and it was completely worth it.",
    ],
    "nighttrain": [
        "Which film stock? the greens look like Portra 400",
        "Night trains are the only way to travel, change my mind",
        "Did you get a sleeper cabin or the seats?",
        "The reflection in the window with the station lights 😮",
        "How do you deal with the x-ray at airports with film?",
        "Vienna to Venice by train is on my list now",
        "grain is so nice here",
        "Film is just a trend, digital does it better",
    ],
    "hokkaido": [
        "How cold was it at sunrise? -15?",
        "Did your camera battery survive the cold?",
        "That mist over the lake is unreal",
        "Was the road to the observatory open in winter?",
        "Japan in winter is so underrated",
        "The pink light on the snow, wow",
        "How early did you have to get up for this 😅",
    ],
    "camerabag": [
        "What bag is that? looks like it has a side access zip",
        "Only two lenses for 3 weeks? respect",
        "How did you keep dust off the sensor with the wind down there",
        "Do you carry a drone or not worth the weight?",
        "which filters did you end up using most",
        "Love the honest gear posts, no sponsored stuff",
        "how much did it all weigh with the tripod?",
    ],
    "jollof": [
        "The smoky bottom of the pot is the best part, don't @ me",
        "Do you use scotch bonnet or habanero? can't find scotch bonnet here",
        "My Ghanaian friends are going to fight you over this 😂",
        "How long do you fry the tomato paste? mine always tastes raw",
        "Made this yesterday and my mum asked for the recipe!",
        "Parboiled rice or regular long grain?",
        "your grandmother's version looks just like my aunty's",
        "That's not how jollof is made, sorry",
        "I grew up eating this every Sunday and I never learned how to make it before my "
        "grandmother passed. Your video is the closest thing I've found to the way she did it, "
        "right down to letting it catch at the bottom. I cried a little while cooking it, in a "
        "good way.",
    ],
    "orzo": [
        "Can I use chicken breast instead of thighs?",
        "Made this tonight, only one pan to wash is a dream",
        "How much stock do you add for the orzo? it's cut off in the video",
        "Would this work with gluten-free orzo?",
        "the lemon zest at the end 👌",
        "Kids ate every bit, that never happens",
        "could I make it with shrimp instead?",
        "Orzo in a one pan dish always turns mushy, not a fan",
    ],
    "focaccia": [
        "My dough was super sticky, is that normal for 80% hydration?",
        "Can I cold proof it overnight in the fridge?",
        "The dimpling part is so satisfying to watch",
        "What pan size did you use? 9x13?",
        "First time it came out flat, second time perfect with your tips",
        "How active should the starter be before mixing?",
        "that olive oil pool before baking 😮‍💨",
        "I don't think beginners can handle 80% hydration, kind of misleading",
        "I've tried five different focaccia recipes and yours is the first one that didn't "
        "come out dense. I think the difference was the stretch and folds and not rushing the "
        "second rise. My starter is only three weeks old, so that's a win.",
    ],
    "noodles": [
        "Can I use almond butter? peanut allergy in the house",
        "Made it in 15 minutes exactly, I timed it lol",
        "What noodles are those? udon?",
        "Adding crispy tofu next time",
        "How spicy is the amount of chili crisp you used?",
        "This is my new lunch for the week",
        "is the sauce ok to keep in the fridge for a few days?",
        "15 minutes? took me 40 😒",
    ],
    "tacos": [
        "Ripe or green plantains for this?",
        "Plantain in tacos is genius",
        "What salsa is that on top? mango?",
        "Can I bake the plantains instead of frying?",
        "Made these for taco tuesday, huge hit",
        "black beans from a can or do you cook them?",
        "the colours in this are so pretty",
    ],
    "barrier": [
        "Is it ok for really sensitive skin? I react to almost everything",
        "Does it pill under sunscreen?",
        "How big is the jar? 50ml?",
        "Been using it a week, my cheeks aren't flaky anymore",
        "Do you ship to Canada?",
        "Is the oat colloidal oatmeal or an extract?",
        "Can I use it with tretinoin?",
        "I have had eczema since I was a child and most moisturisers either sting or do "
        "nothing. I was sceptical, but after two weeks of using this morning and night the "
        "patches on my hands are smaller and don't itch at night. Thank you for keeping the "
        "formula simple.",
    ],
    "actives": [
        "So vitamin C in the morning and retinol at night, never together?",
        "This cleared up so much confusion, thank you",
        "What about niacinamide with vitamin C, still a myth?",
        "Can I use AHA and retinol on alternate nights?",
        "the chart is so helpful, saving it",
        "How long should I wait between layers?",
        "I wish I'd seen this before I wrecked my barrier last winter",
    ],
    "jars": [
        "Love seeing the small batch process",
        "How many jars do you fill in a day?",
        "Is that a piston filler?",
        "This is why I buy from small brands",
        "The labels are so cute, who designs them?",
        "Do you make everything in house?",
        "so satisfying to watch",
        "My order from two weeks ago still hasn't arrived 😕",
    ],
    "fragrance": [
        "Finally a brand that gets it, fragrance wrecks my skin",
        "What about essential oils, are those out too?",
        "Does unscented mean the same as fragrance-free?",
        "My dermatologist says the same thing",
        "I kind of like a little scent though 🙈",
        "Thank you for explaining instead of just marketing",
        "Is the cleanser fragrance-free too?",
        "Fragrance free claims are marketing, every brand says this",
    ],
    "restock": [
        "Finally!! the barrier cream was sold out for weeks",
        "Is the travel size back too?",
        "Just ordered 2 🥳",
        "Did the price change?",
    ],
}

# Comments that fit any post of the creator; each is used at most once.
ABOUT_CREATOR = {
    "coach.lena.fit": [
        "Your cues are always so clear, thank you",
        "Started your program in January and I'm down two belt holes",
        "Do you have a version for people with bad knees?",
        "I love how you don't push crazy diets",
        "This is the kind of fitness content I need",
        "How many days a week do you train?",
        "Best coach on here honestly",
        "doing your workout tomorrow morning before work",
        "Could you do a postpartum friendly version?",
        "you make it look easy 😅",
        "Tried your leg day last week, my legs are still shaking",
        "Is there a longer version on your YouTube?",
        "Your energy is contagious",
        "Saving this for later",
        "Does this help with lower back pain?",
        "I'm 58 and doing your workouts, thank you for making them accessible",
        "Been following for 2 years, still the best advice",
        "what shoes are you wearing?",
        "So refreshing to see realistic progress",
        "My physio recommended your page!",
        "adding your tips to my routine",
        "Can teens do this too? asking for my 15 year old",
        "the way you explain breathing finally made it click",
        "love the no-nonsense approach",
        "week 3 of your plan and I already feel stronger",
    ],
    "milo.wanders": [
        "Your editing style is so recognisable",
        "Do you sell prints?",
        "The composition here is perfect",
        "What camera do you shoot with?",
        "Every post makes me want to book a flight",
        "Do you do workshops?",
        "This belongs in a gallery",
        "How do you plan your shots, apps or just luck?",
        "That light though",
        "You make every place look like a painting",
        "Do you edit in Lightroom?",
        "Unreal colours",
        "Adding this to my travel list",
        "Your feed is my daily escape",
        "Is this a single exposure?",
        "Would love a behind the scenes video",
        "Stunning as always",
        "how do you find these spots?",
        "I printed one of your photos for my office",
        "the mood in this one 🖤",
        "what time of day was this?",
        "You should do a photo book",
        "mind blowing shot",
        "Been following since your Iceland series, still in love",
        "The depth in this photo is crazy",
    ],
    "amara.cooks": [
        "Your recipes never fail me",
        "Making this for dinner tonight!",
        "Can you do a vegan version?",
        "The way you explain the steps is so easy to follow",
        "My kitchen smells amazing right now thanks to you",
        "Do you have a cookbook?",
        "What pot is that? it looks so sturdy",
        "I need this in my life right now",
        "How many servings does this make?",
        "Trying this on the weekend",
        "Looks delicious 🤤",
        "Your videos are so calming to watch",
        "What's the substitute if I don't have a dutch oven?",
        "Cooked this for my in-laws and they loved it",
        "Please never stop posting",
        "Can I freeze leftovers?",
        "This reminds me of home",
        "how long does it keep in the fridge?",
        "your knife skills are goals",
        "made it twice this week already",
        "Where do you get your spices?",
        "Simple ingredients, big flavour, love it",
        "Is this spicy? cooking for kids",
        "Best food account on here",
        "Could I make this in an instant pot?",
    ],
    "glowroot.skin": [
        "Your products saved my skin this winter",
        "Do you ship internationally?",
        "Is it safe during pregnancy?",
        "Love supporting small businesses like yours",
        "Any samples available?",
        "Is it vegan and cruelty free?",
        "The packaging is so pretty",
        "Can men use this too? asking for my husband",
        "Would love a toner from you",
        "Does it work for oily skin?",
        "Are your jars recyclable?",
        "Ordered last week, can't wait",
        "The texture looks amazing",
        "Is there a discount for first orders?",
        "I have rosacea, would this help?",
        "How long does a jar last?",
        "Love how transparent you are about ingredients",
        "Need this restocked asap",
        "My skin has never been this calm",
        "Does it have SPF?",
        "Is it non-comedogenic?",
        "Gifted this to my sister and she loves it",
        "Do you sell in any shops?",
        "Please make a body lotion version 🙏",
        "Been using it for a month, no breakouts",
    ],
}

OTHER_LANGUAGES = {
    "coach.lena.fit": [
        "¡Qué buena rutina! La hice hoy y me encantó",
        "Amei o treino, vou fazer amanhã cedo 💪",
        "Super erklärt, endlich verstehe ich die Technik",
        "Merci pour les conseils, j'ai enfin progressé",
        "बहुत बढ़िया वर्कआउट, कल से शुरू करूँगी",
        "تمرين رائع، شكراً على الشرح الواضح",
        "Отличная тренировка, спасибо за подробное объяснение",
        "わかりやすい説明ありがとうございます！明日やってみます",
        "Allenamento fantastico, grazie!",
        "¿Cuántas series recomiendas para principiantes?",
    ],
    "milo.wanders": [
        "Qué foto tan increíble, me dan ganas de viajar ya",
        "Que luz linda! Parece uma pintura",
        "Wahnsinnig schönes Licht, tolles Foto",
        "Magnifique, on s'y croirait",
        "कितनी सुंदर तस्वीर है!",
        "صورة مذهلة، الألوان جميلة جداً",
        "Невероятно красиво, какой объектив?",
        "空の色がとても綺麗ですね",
        "Harika bir kare, eline sağlık",
        "Qual câmera você usa?",
    ],
    "amara.cooks": [
        "Se ve delicioso, lo voy a preparar este fin de semana",
        "Que delícia! Vou fazer hoje no jantar",
        "Sieht unglaublich lecker aus, das koche ich nach",
        "Ça a l'air délicieux, merci pour la recette",
        "बहुत स्वादिष्ट लग रहा है, ज़रूर बनाऊँगी",
        "يبدو لذيذاً جداً، سأجربه اليوم",
        "Выглядит очень вкусно, обязательно приготовлю",
        "とても美味しそう！作ってみます",
        "Che buono! Da provare subito",
        "Est-ce qu'on peut le préparer la veille ?",
    ],
    "glowroot.skin": [
        "¿Hacen envíos a México?",
        "Amei a textura, minha pele ficou ótima",
        "Gibt es das auch in einer größeren Dose?",
        "Enfin une crème sans parfum, merci !",
        "क्या यह संवेदनशील त्वचा के लिए ठीक है?",
        "هل المنتج مناسب للبشرة الحساسة؟",
        "Подходит ли крем для жирной кожи?",
        "敏感肌でも使えますか？",
        "Verzenden jullie ook naar Nederland?",
        "Me encanta que sea sin fragancia",
    ],
}

DISAGREE = {
    "coach.lena.fit": [
        "Honestly this is more of a warm up than a workout",
        "Not a fan of the music, made it hard to follow the counts",
        "You never mention cardio, heart health matters too",
        "This is just the same stuff everyone posts",
        "Too fast to follow, please slow down the demos",
    ],
    "milo.wanders": [
        "Too much editing for my taste, the sky looks fake",
        "Geotagging these spots ruins them, please stop",
        "Nice but the horizon is crooked",
        "I was there last year and it looks nothing like this without the filters",
        "Every travel account posts the same places now, where's the originality",
    ],
    "amara.cooks": [
        "Way too much oil for me",
        "Too much salt for my taste honestly",
        "Not everyone has all these spices at home, a bit unrealistic",
        "I tried it and it was bland, not sure what went wrong",
        "The portions look tiny for 4 people",
    ],
    "glowroot.skin": [
        "A bit pricey for the size honestly",
        "Gave me little bumps on my chin, didn't work for me",
        "Shipping took 3 weeks, not great",
        "Wish the jar was a pump, fingers in a jar isn't hygienic",
        "Not sure about the claims, there's no clinical study linked",
    ],
}

LONG = {
    "coach.lena.fit": [
        "I want to say thank you. Two years ago I couldn't walk up the stairs to my flat "
        "without stopping, I was recovering from surgery and every program I found was either "
        "too intense or too boring. Your short routines got me moving again and last week I "
        "hiked 12 km with my daughter. Keep doing what you do.",
        "As a physio I really appreciate that you show regressions. So many accounts only show "
        "the hardest version and people get hurt trying to copy it. The cue about keeping the "
        "ribs down is exactly what I tell my patients.",
        "I've been doing your workouts three times a week since new year. No crazy diet, just "
        "more protein and more sleep like you keep saying. Down 6 kg and my blood pressure is "
        "finally normal according to my GP.",
        "Long time lurker, first comment. I'm a nurse working night shifts and I used to think "
        "there was no point training with my schedule. Your 20 minute sessions fit between "
        "shifts and I've done them for six months now. My back pain from lifting patients is "
        "mostly gone.",
    ],
    "milo.wanders": [
        "I've followed your work for years and what I love most is that you never oversell "
        "the places. You show the bad weather, the long waits, the crowded viewpoints. It makes "
        "the good shots feel earned and honestly makes me a better traveller.",
        "Question about your workflow: do you shoot bracketed exposures for scenes like this "
        "or is it one frame pushed in post? I keep losing the highlights in the sky when I try "
        "to keep detail in the shadows and I'm not sure if it's my camera or my technique.",
        "This photo brought back so many memories. My grandfather was from a small village not "
        "far from here and he used to describe mornings exactly like this. I showed him this "
        "picture and he went quiet for a long time, then told me a story I had never heard.",
        "Your posts reminded me why I started taking photos. I bought a second hand camera "
        "last year after a breakup and started walking around my own city at sunrise. It's not "
        "Patagonia, but I've found places ten minutes from home that I never noticed before.",
    ],
    "amara.cooks": [
        "Tip for anyone with a small kitchen like mine: I made this on a single induction plate "
        "in a studio flat and it worked fine, just keep the heat a bit lower and stir more "
        "often. Thanks for recipes that don't need fancy equipment.",
        "Cooked this for a dinner party of eight and doubled everything. It took longer than "
        "in the video, maybe 20 minutes more, but everyone asked for seconds. Would you change "
        "anything when making a bigger batch?",
        "I'm a student cooking on a tight budget and your page is the reason I stopped living "
        "on instant noodles. I batch cook on Sundays now, and last month I spent half of what I "
        "used to on takeaways. My flatmates are very happy about it too.",
        "I've been cooking with my dad on video calls since he moved back home, and we pick one "
        "of your recipes every week. He's seventy-two and says you're the only cook online who "
        "doesn't waste his time with a long intro.",
    ],
    "glowroot.skin": [
        "Would love to know more about how you test your products. Do you do patch testing "
        "with volunteers, and do you test the final jars for preservation? Not trying to be "
        "difficult, I just like to know before I buy from a small brand.",
        "I bought this after reading the ingredient list three times. No fragrance, no "
        "essential oils, short list, clear percentages. It's so rare. My only wish is a bigger "
        "size because I go through a jar in about six weeks.",
        "My teenage son has acne and is on a strong treatment that makes his skin peel. The "
        "dermatologist said to find a plain barrier cream and this is the only one he doesn't "
        "complain about. Small win for a mum.",
        "I run a tiny candle shop and I know how hard it is to keep prices fair when you make "
        "everything by hand. Seeing your posts about sourcing and filling jars yourselves makes "
        "the price make sense to me. Wishing you a good spring season.",
    ],
}

# The creator answering questions under their post: (index into ABOUT_POST, answer).
CREATOR_ANSWERS = {
    "glutes": [(0, "a light band is fine, just slow the tempo down 🐢"),
               (2, "start with 2 and add the third when it feels easy!")],
    "mealprep": [(0, "supermarket ones, nothing fancy! just don't microwave the lids"),
                 (2, "yes, both freeze fine for up to a month")],
    "pullup": [(1, "about 5 months, 3 short sessions a week"),
               (2, "bands if you train at home, the machine if you have one, both work")],
    "mobility": [(1, "either! lighter before a run, deeper in the evening"),
                 (4, "ease off the depth and breathe into it, it gets better in a week or two")],
    "rest": [(1, "I still walk, 8-10k steps"), (3, "same calories, a bit fewer carbs")],
    "lisbon": [(0, "good eye, it is!"), (2, "tripod, about 2 seconds")],
    "faroe": [(1, "very, I had to hold the tripod the whole time 😅"),
              (3, "about 1.5 seconds with an ND filter")],
    "nighttrain": [(0, "Portra 400, good guess"), (2, "sleeper cabin, worth every euro")],
    "hokkaido": [(0, "-18 with the wind 🥶"), (1, "kept two spares in my inner pocket")],
    "camerabag": [(0, "an old rolltop bag, link in my stories"),
                  (6, "around 9 kg with the tripod")],
    "jollof": [(1, "habanero works fine, use a bit less"),
               (3, "at least 10 minutes, until it turns dark red")],
    "orzo": [(0, "yes, but thighs stay juicier"), (2, "about 750 ml, I'll add it to the caption")],
    "focaccia": [(0, "totally normal, wet hands help!"),
                 (1, "yes, up to 48 hours, it gets even better")],
    "noodles": [(0, "yes, almond or sunflower seed butter both work"),
                (4, "medium, start with one spoon")],
    "tacos": [(0, "ripe ones, the darker the better"),
              (3, "yes, 200°C for about 20 minutes, flip halfway")],
    "barrier": [(0, "it was made for sensitive skin, but patch test first 🌿"),
                (4, "yes, we ship to Canada and the EU")],
    "actives": [(0, "exactly! or alternate days if you want both"),
                (5, "a minute or two is plenty")],
    "jars": [(1, "about 300 on a good day"), (2, "yes! our best purchase last year"),
             (7, "so sorry! please DM us your order number and we'll sort it out today")],
    "fragrance": [(1, "yes, those are out too"), (6, "yes, everything we make is fragrance-free")],
    "restock": [(1, "yes, back this morning!")],
}  # fmt: skip

# Short genuine comments from anyone, typos included; each used at most once.
GENERAL = [
    "love this", "so good", "need this", "obsessed", "this is great", "amazing",
    "yesss", "saving this", "beautiful", "so cool", "omg", "definately trying this tommorow",
    "cant wait to try thsi", "ur vidoes are the best", "lol this is me", "goals", "too good",
    "so helpful thank u", "this made my day", "perfect", "I needed this today",
    "can't stop watching", "the best", "insane", "love your page", "brilliant", "oh wow",
    "yes please", "gorgeous", "so underrated", "more of this please", "haha love it",
    "nice one", "incredible", "this is so wholesome", "thank you for sharing",
    "finally someone said it", "big fan", "wich one is your favourite?", "speechless",
    "this is teh content i come here for", "recieved my notification and ran here",
]  # fmt: skip

# One-off fans: repeats across posts are expected and fine.
EMOJI = ["🔥", "🔥🔥", "🔥🔥🔥", "😍", "😍😍", "😍😍😍", "❤️", "❤️❤️", "👏👏", "🙌", "🙌🙌",
         "💯", "🤩", "😮", "🥰", "😂", "👌", "✨"]  # fmt: skip
EMOJI_EXTRA = {"coach.lena.fit": ["💪", "💪🔥"], "milo.wanders": ["📸🔥", "🖤"],
               "amara.cooks": ["🤤", "🤤🤤"], "glowroot.skin": ["🌿", "🧴✨"]}  # fmt: skip

# Users talking to each other: "@name <body>"; each body used at most once.
REPLIES = [
    "same here!!", "right?? 😂", "you have to try it", "it's in her highlights I think",
    "lol that's literally me", "told you 😅", "I asked the same thing last week", "look at this",
    "we need to do this", "this is what I was talking about", "haha agreed", "no way, really?",
    "I think it's linked in the bio", "tried it, it works", "trust me it's worth it",
    "I had the same problem, go slower", "answered in the last post", "exactly what I thought",
    "not me screenshotting this 😂", "can we go here please", "you'd love this",
    "sending this to you for a reason 👀", "I use the cheap one from the supermarket, it's fine",
    "same question!", "thanks for asking this", "I did it without and it was ok",
    "you're so right", "hahaha stop", "let me know if you try it", "omg this is us",
    "I disagree a bit but fair point", "mine came out the same, don't worry", "🤣🤣",
    "that's what I said!", "it took me about two weeks", "check the caption, it's there",
    "weekend plan sorted", "wait you too?", "this one's for you", "I'll make it for us on Friday",
    "it's the second one in the carousel", "yes!! finally someone else noticed",
    "you can buy it online", "good question, following", "I'm saving this for our trip",
    "no because why is this so accurate", "you were right about this", "adding it to our list",
    "look who's famous", "we should try this together",
]  # fmt: skip

# ---- the planted campaign ---------------------------------------------------------------
BOTS = [
    "lifestyle.vibes_2291", "amelia.rose_8830x", "daily.motivation.hub7", "glowup_queen_4412",
    "jess.marie_8819", "travelgram.world_55", "fit.life.mindset_01", "sophia_grace_7731",
    "trend.vibes.daily", "olivia.lux_3904", "happy.vibes.only_88", "mia_loves_style22",
    "emma.rose.official_9", "insta.famous.page1", "best.quotes.daily_4", "chloe_b_6620x",
    "positive.energy_365", "lily.j.wonder_0071", "fashion.daily.feed_3", "ava.smiles_2048",
]  # fmt: skip
# Generic praise that fits any post; the first variant of each is the operator's default.
GENERIC = [
    ["Amazing content 🔥🔥", "Amazing content 🔥🔥🔥", "Amazing content!! 🔥🔥"],
    ["Love this ❤️", "Love this ❤️❤️", "love this❤️"],
    ["Great post keep it up!", "Great post, keep it up!!", "Great post keep it up 👏"],
    ["Wow 😍", "Wow 😍😍", "WOW 😍😍😍"],
    ["So inspiring 🙌", "So inspiring 🙌🙌", "So inspiring!! 🙌"],
    ["This is awesome, keep going 💯", "This is awesome keep going 💯💯"],
    ["Beautiful 😍🔥", "Beautiful!! 😍🔥"],
    ["Nice post 👍", "Nice post 👍👍"],
]
# (account, variants); {btc}, {eth}, {n2}, {n3}, {imp} are filled in per account or post.
PROMO = [
    ("crypto.mentor.lucas", ["DM @crypto_mentor_x to start earning $5k/week 📈",
                             "DM @crypto_mentor_x to start earning $5k/week 📈💰"]),
    ("fx_trade_with_sarah", ["Started with $200 and now I make $5k a week 💸 all thanks to "
                             "@crypto_mentor_x, just DM him"]),
    ("growthpage.boost", ["Want more followers? Promote it on @growthpage.boost 🚀",
                          "Want real followers? Promote it on @growthpage.boost 🚀🚀"]),
    ("promo.hub.official", ["Send this to @promo.hub.official for a feature 🔥"]),
    ("mila.dreamy.x", ["check my bio 😘💋", "check my bio 💋"]),
    ("𝓬𝓸𝓵𝓵𝓪𝓫.𝓺𝓾𝓮𝓮𝓷", ["𝓓𝓜 𝓶𝓮 𝓯𝓸𝓻 𝓪 𝓬𝓸𝓵𝓵𝓪𝓫 💌"]),
    ("views.booster.pro", ["Nice page! Get real views at bit . ly/ig-grow-fast 📈"]),
    ("luxwear.collab.team", ["We'd love you as a brand ambassador 💎 DM @luxwear.collab.team "
                             "for a free collab"]),
]  # fmt: skip
SCAM = [
    ("giftclaim_center", ["🎁 GIVEAWAY 🎁 You've been selected! Claim your prize at "
                          "giftclaim-now . com before midnight ⏰"]),
    ("{imp}", ["Congratulations 🎉 you won our monthly giveaway, DM @{imp} to claim your "
               "prize 🎁"]),
    ("btc.doubler.official", ["Send 0.05 BTC to {btc} and get 0.1 BTC back within an hour ✅"]),
    ("usdt_profit_daily", ["Double your USDT today 💰 send to {eth}, limited slots"]),
    ("invest.with.daniel", ["WhatsApp +44 7700 900{n3} for guaranteed investment returns 📲"]),
    ("jenny.l.wilson_22", ["My account was hacked and @hackfix_pro_support got it back in "
                           "2 hours, DM them 🙏"]),
    ("free.iphone.drop", ["Free iPhone 17 for the first 100 followers 👉 bit . ly/free-ip17"]),
    ("amy.recovery.help", ["Text me on WhatsApp +1 202 555 01{n2} if you lost money to "
                           "scammers, I can help you recover it"]),
]  # fmt: skip
IMPERSONATORS = {"coach.lena.fit": "coach.lena.fit.giveaway", "amara.cooks": "amara.cooks_winner"}

NAMES = [
    "maria", "tom", "sofia", "lucas", "aisha", "kenji", "priya", "omar", "elena", "jonas",
    "chloe", "mateo", "fatima", "liam", "yuki", "carlos", "nina", "arjun", "leila", "felix",
    "ana", "diego", "hana", "samir", "zoe", "ivan", "amina", "noah", "mei", "rafael", "sara",
    "emre", "lea", "daniel", "ines", "kofi", "olga", "pablo", "rina", "theo", "julia", "tariq",
    "clara", "ben", "nadia", "hugo", "ada", "vikram", "lucia", "finn", "maya", "yusuf",
    "camille", "oscar", "anjali", "lars", "beatriz", "kwame", "sven",
]  # fmt: skip
WORDS = [
    "runs", "eats", "travels", "lifts", "reads", "bakes", "writes", "films", "grows",
    "sketches", "dances", "hikes", "makes", "moves", "cooks", "studio", "daily", "life",
    "home", "draws", "climbs", "sews", "paints", "surfs",
]  # fmt: skip


def handle(rng: random.Random, taken: set[str]) -> str:
    """A fresh, plausible personal handle."""
    while True:
        n, w, d = rng.choice(NAMES), rng.choice(WORDS), rng.randint(1, 99)
        initial = rng.choice(string.ascii_lowercase)
        h = rng.choice([f"{n}.{w}", f"{n}_{w}", f"{n}{d:02d}", f"{n}.{initial}",
                        f"{w}with{n}", f"{n}_{initial}{d}", f"the.{n}.{w}"])  # fmt: skip
        if h not in taken:
            taken.add(h)
            return h


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def after(rng: random.Random, start: datetime, median_s: float, sigma: float) -> datetime:
    """A lognormal delay after `start`, redrawn until it falls before the export cutoff."""
    for _ in range(100):
        t = start + timedelta(seconds=max(60.0, rng.lognormvariate(math.log(median_s), sigma)))
        if t < CUTOFF:
            return t
    return start + (CUTOFF - start) / 2


class Pools:
    """Text pools drawn without replacement, so genuine texts never repeat by accident."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.pools = rng, {}

    def take(self, name: str, items: list[str], k: int) -> list[str]:
        if name not in self.pools:
            self.pools[name] = self.rng.sample(items, len(items))
        pool = self.pools[name]
        if not 0 <= k <= len(pool):
            raise ValueError(f"text pool {name!r}: cannot take {k} of {len(pool)}; adjust counts")
        taken, self.pools[name] = pool[:k], pool[k:]
        return taken


def genuine_comments(rng, post: Post, index: int, pools: Pools, fans, taken) -> list[dict]:
    """Genuine comments on one post: content, replies, languages, emoji, typos."""
    owner, pub = post.owner, parse(post.published)
    small = post.key == "restock"  # a day old: only a handful of comments so far
    plan = [("about", t) for t in ABOUT_POST[post.key]]
    plan += [("emoji", rng.choice(EMOJI + EMOJI_EXTRA[owner])) for _ in range(1 if small else 3)]
    if not small:
        plan += [("creator", t) for t in pools.take(owner, ABOUT_CREATOR[owner], 5)]
        plan += [("language", t) for t in pools.take("lang" + owner, OTHER_LANGUAGES[owner], 2)]
        plan += [("disagree", t) for t in pools.take("dis" + owner, DISAGREE[owner], 1)]
        plan += [("long", t) for t in pools.take("long" + owner, LONG[owner], int(index < 4))]
    n_replies = 1 if small else 2
    plan += [("general", t) for t in pools.take("general", GENERAL, post.general)]
    rows = []
    for kind, text in plan:
        author = rng.choice(fans[owner]) if rng.random() < 0.25 else handle(rng, taken)
        rows.append(dict(kind=kind, author=author, text=text, t=after(rng, pub, 4 * 3600, 1.5)))
    rows += user_replies(rng, rows, pools.take("replies", REPLIES, n_replies), taken)
    rows += creator_answers(rng, rows, post)
    return rows


def user_replies(rng, rows: list[dict], bodies: list[str], taken) -> list[dict]:
    """Users answering earlier commenters, or tagging a friend who is not on the post."""
    out = []
    for body in bodies:
        target = rng.choice([r for r in rows if r["kind"] != "emoji"])
        if rng.random() < 0.6:
            name, t = target["author"], after(rng, target["t"], 2400, 1.2)
        else:  # a tag: the friend never comments, the tagger reads the post a while later
            name, t = handle(rng, taken), after(rng, target["t"], 3600, 1.5)
        out.append(dict(kind="reply", author=handle(rng, taken), text=f"@{name} {body}", t=t))
    return out


def creator_answers(rng, rows: list[dict], post: Post) -> list[dict]:
    """The creator answering specific questions under the post, an hour or two later."""
    about = [r for r in rows if r["kind"] == "about"]
    out = []
    for i, body in CREATOR_ANSWERS[post.key]:
        target = about[i]
        text, t = f"@{target['author']} {body}", after(rng, target["t"], 5400, 1.0)
        out.append(dict(kind="creator", author=post.owner, text=text, t=t))
    return out


def planted_comments(rng, post: Post, run: int, personas, fills) -> list[dict]:
    """Campaign run number `run` on a post: a burst of generic praise, then promo and scam
    accounts, taken in rotation so that every account works on several posts."""
    pub = parse(post.published)
    start = pub + timedelta(seconds=rng.uniform(45, 400))
    window = rng.uniform(60, 170)  # the whole burst lands within 1-3 minutes
    rows = []
    for bot in rng.sample(BOTS, rng.randint(14, 18)):
        variants = GENERIC[rng.choice(personas[bot])]
        text = variants[0] if rng.random() < 0.5 else rng.choice(variants[1:])
        t = start + timedelta(seconds=rng.uniform(0, window))
        rows.append(dict(kind="generic_campaign", author=bot, text=text, t=t, variants=variants))
    for kind, table, k in (("promo", PROMO, 4), ("scam", SCAM, 3)):
        for account, variants in (table[(run * k + j) % len(table)] for j in range(k)):
            fill = dict(fills, imp=IMPERSONATORS[post.owner])
            # Promo accounts ride the same burst half of the time; scams trickle in later.
            in_burst = kind == "promo" and rng.random() < 0.5
            t = start + timedelta(seconds=rng.uniform(0, window)) if in_burst else None
            rows.append(dict(kind=kind, author=account.format(**fill),
                             text=rng.choice(variants).format(**fill),
                             t=t or after(rng, pub, 2 * 3600, 1.0)))  # fmt: skip
    return rows


def spread_variants(rows: list[dict], min_posts: int = 3) -> None:
    """A variant the bots used on fewer than `min_posts` posts becomes its phrase's most
    widespread variant, so every copy-paste text in the file spans several posts (the README
    promises it)."""
    generic = [r for r in rows if r["kind"] == "generic_campaign"]
    posts = defaultdict(set)
    for r in generic:
        posts[r["text"]].add(r["post"].key)
    for r in generic:
        if len(posts[r["text"]]) < min_posts:
            r["text"] = max(r["variants"], key=lambda v: len(posts[v]))
    spread = defaultdict(set)
    for r in generic:
        spread[r["text"]].add(r["post"].key)
    if thin := sorted({r["text"] for r in generic if len(spread[r["text"]]) < min_posts}):
        raise ValueError(f"generic texts on fewer than {min_posts} posts: {thin}")


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def post_ids(rng: random.Random) -> dict[str, tuple[str, str]]:
    """(media id, shortcode) per post, shaped like Instagram's."""
    alphabet = string.ascii_letters + string.digits + "_-"
    return {p.key: (str(rng.randint(3_500_000_000_000_000_000, 3_599_999_999_999_999_999)),
                    "D" + "".join(rng.choice(alphabet) for _ in range(10)))
            for p in POSTS}  # fmt: skip


def wallet_fills(rng: random.Random) -> dict[str, str]:
    bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    return {"btc": "bc1q" + "".join(rng.choice(bech32) for _ in range(38)),
            "eth": "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
            "n2": f"{rng.randint(0, 99):02d}", "n3": f"{rng.randint(0, 999):03d}"}  # fmt: skip


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    taken = set(BOTS) | {p.owner for p in POSTS}
    fans = {owner: [handle(rng, taken) for _ in range(12)] for owner in ABOUT_CREATOR}
    # Each phrase is the favourite of equally many bots, so each one is seen on many posts.
    slots = [i for i in range(len(GENERIC)) for _ in range(2 * len(BOTS) // len(GENERIC))]
    rng.shuffle(slots)
    personas = {bot: slots[2 * i : 2 * i + 2] for i, bot in enumerate(BOTS)}
    fills, pools, rows, runs = wallet_fills(rng), Pools(rng), [], 0
    for post in POSTS:
        index = [p for p in POSTS if p.owner == post.owner].index(post)
        found = genuine_comments(rng, post, index, pools, fans, taken)
        if post.bots:
            found += planted_comments(rng, post, runs, personas, fills)
            runs += 1
        rows += [dict(r, post=post) for r in found]
    spread_variants(rows)
    # Two accounts were deleted after commenting: exports show no handle for them.
    for r in rng.sample([r for r in rows if r["kind"] == "emoji"], 2):
        r["author"] = None
    return rows


def records(rows: list[dict], seed: int) -> list[dict]:
    """Canonical JSONL records, ordered by post then time; comment ids grow with time."""
    rng = random.Random(seed + 1)
    ids, order = post_ids(rng), {p.key: i for i, p in enumerate(POSTS)}
    comment_id = 17_900_000_000_000_000
    by_time = sorted(rows, key=lambda r: (r["t"], r["text"]))
    for r in by_time:
        comment_id += rng.randint(1_000, 9_000_000)
        r["comment_id"] = str(comment_id)
    out = []
    for r in sorted(by_time, key=lambda r: (order[r["post"].key], r["t"])):
        media_id, shortcode = ids[r["post"].key]
        out.append({
            "comment_id": r["comment_id"], "post_id": media_id, "post_shortcode": shortcode,
            "post_url": f"https://www.instagram.com/p/{shortcode}/", "post_owner": r["post"].owner,
            "post_published_at": r["post"].published, "author": r["author"], "text": r["text"],
            "created_at": iso(r["t"]), "planted": None if r["kind"] not in PLANTED else r["kind"],
        })  # fmt: skip
    return out


PLANTED = ("promo", "scam", "generic_campaign")


def campaign_toml(out: list[dict]) -> str:
    """The brand-audit campaign file; posts are given as shortcodes, URLs and ids on purpose."""
    by_key = {}
    for r in out:
        by_key.setdefault((r["post_owner"], r["post_published_at"]), r)
    post = {p.key: by_key[(p.owner, p.published)] for p in POSTS}
    lines = [
        "# Brand audit for `make demo`: which creators the brand paid, and for which posts.",
        "# A post may be named by shortcode, by post URL or by numeric post id.",
        "[campaign]",
        'name = "Fernway spring launch 2026"',
        'brand = "Fernway"',
        "",
    ]
    for owner, refs in (
        ("coach.lena.fit", [("glutes", "post_shortcode"), ("mealprep", "post_url"),
                            ("pullup", "post_id")]),
        ("amara.cooks", [("orzo", "post_shortcode"), ("focaccia", "post_shortcode"),
                         ("tacos", "post_url")]),
        ("milo.wanders", [("faroe", "post_shortcode"), ("hokkaido", "post_id")]),
    ):  # fmt: skip
        values = ", ".join(f'"{post[key][field]}"' for key, field in refs)
        lines += ["[[creators]]", f'handle = "{owner}"', f"posts = [{values}]", ""]
    return "\n".join(lines)


def summary(out: list[dict]) -> str:
    """A markdown table of genuine and planted comments per post, for examples/README.md."""
    head = "| owner | shortcode | genuine | generic_campaign | promo | scam |\n" + "|---" * 6 + "|"
    counts = defaultdict(lambda: defaultdict(int))
    for r in out:
        counts[(r["post_owner"], r["post_shortcode"])][r["planted"] or "genuine"] += 1
    rows = [f"| {o} | {s} | {c['genuine']} | {c['generic_campaign']} | {c['promo']} | {c['scam']} |"
            for (o, s), c in counts.items()]  # fmt: skip
    return "\n".join([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args()
    out = records(build(args.seed), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) for r in out]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_name("campaign.toml").write_text(campaign_toml(out), encoding="utf-8")
    print(f"wrote {len(out)} comments to {args.out}")
    print(summary(out))


if __name__ == "__main__":
    main()
