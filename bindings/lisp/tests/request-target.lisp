;;;; The request-target forms and the effective host (RFC 9112 sections 3.2
;;;; and 3.3), sent as raw requests: an absolute-form target names the host,
;;;; overriding Host, in the request object and in the Clack environment.

(in-package #:c10k/tests)

(in-suite c10k)

(defun target-parts (request)
  "What a handler reads of REQUEST's target and host."
  (list (c10k:request-target-form request) (c10k:request-scheme request)
        (c10k:request-host request) (c10k:request-port request)
        (c10k:request-path request) (c10k:request-query request)
        (c10k:request-header request :host)))

(test request-target-parts
  (let (seen)
    (with-http-server (server (lambda (request)
                                (setf seen (target-parts request))
                                (values 204 nil nil)))
      (flet ((parts (text)
               (setf seen nil)
               (is (= 204 (request-text (c10k:server-port server) text)))
               seen))
        (is (equal '(:absolute "http" "example.org" 8081 "/a" "b=1" "other")
                   (parts (format nil "GET http://example.org:8081/a?b=1 HTTP/1.1~%~
                                       Host: other~%Connection: close~%~%"))))
        (is (equal '(:absolute "https" "Example.org" nil "/" nil "other:9")
                   (parts (format nil "GET HTTPS://Example.org HTTP/1.1~%~
                                       Host: other:9~%Connection: close~%~%"))))
        (is (equal '(:absolute "http" "[::1]" 8443 "/v6" nil "other")
                   (parts (format nil "GET http://[::1]:8443/v6 HTTP/1.1~%~
                                       Host: other~%Connection: close~%~%"))))
        (is (equal '(:origin nil "origin.test" 9000 "/o" "k=v" "origin.test:9000")
                   (parts (format nil "GET /o?k=v HTTP/1.1~%~
                                       Host: origin.test:9000~%Connection: close~%~%"))))
        (is (equal '(:asterisk nil "origin.test" nil "*" nil "origin.test")
                   (parts (format nil "OPTIONS * HTTP/1.1~%~
                                       Host: origin.test~%Connection: close~%~%"))))
        (is (equal '(:origin nil nil nil "/old" nil nil)
                   (parts (format nil "GET /old HTTP/1.0~%~%"))))))))

(test deferred-request-keeps-target-parts
  (let ((mailbox (make-mailbox)))
    (with-http-server (server (lambda (request)
                                (mailbox-put mailbox (c10k:defer-reply request))
                                nil))
      (let* ((port (c10k:server-port server))
             (client (bt:make-thread
                      (lambda ()
                        (request-text port (format nil "GET http://example.org:8081/a?b=1 HTTP/1.1~%~
                                                        Host: other~%Connection: close~%~%")))
                      :name "client"))
             (reply (mailbox-take mailbox))
             (request (c10k:reply-request reply)))
        ;; Read on this thread, after the handler returned: copied by DEFER-REPLY.
        (is (equal '(:absolute "http" "example.org" 8081 "/a" "b=1" "other")
                   (target-parts request)))
        (c10k:send-reply reply 200 '(("content-type" . "text/plain")) "ok")
        (is (= 200 (bt:join-thread client)))))))

(test clack-absolute-form
  (let (env)
    (with-clack-app (port (lambda (e) (setf env e) '(200 (:content-type "text/plain") ("ok"))))
      (is (= 200 (request-text port (format nil "GET http://example.org:8081/a%20b?b=1 HTTP/1.1~%~
                                                 Host: other~%Connection: close~%~%"))))
      (is (equal "example.org" (getf env :server-name)))
      (is (eql 8081 (getf env :server-port)))
      (is (equal "/a b" (getf env :path-info)))
      (is (equal "b=1" (getf env :query-string)))
      (is (equal "/a%20b?b=1" (getf env :request-uri)))
      (is (eq :http (getf env :url-scheme)))
      (is (equal "other" (gethash "host" (getf env :headers))))
      (is (= 200 (request-text port (format nil "GET https://[::1]/s HTTP/1.1~%~
                                                 Host: other:81~%Connection: close~%~%"))))
      (is (equal "::1" (getf env :server-name)))
      (is (eql 443 (getf env :server-port)))
      (is (equal "/s" (getf env :request-uri)))
      (is (null (getf env :query-string)))
      (is (= 200 (request-text port (format nil "GET /o?k=v HTTP/1.1~%~
                                                 Host: other:81~%Connection: close~%~%"))))
      (is (equal "other" (getf env :server-name)))
      (is (eql 81 (getf env :server-port)))
      (is (equal "/o?k=v" (getf env :request-uri))))))
