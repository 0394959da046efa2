-- wrk script: POST /generate with a complete, valid TGI body. Served without
-- a model, Kiln parses and validates every parameter and answers 503; the
-- peer does the same checks. This measures the HTTP + JSON + validation path.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":"What is Deep Learning?","parameters":{"max_new_tokens":20,' ..
           '"temperature":0.7,"top_p":0.95,"top_k":50,"repetition_penalty":1.1,' ..
           '"stop":["\\n\\n"],"seed":42,"details":true,"do_sample":true}}'
