;;;; The Clack handler: Lack-style applications run by
;;;; clack.handler.c10k:run on a thread of their own, stopped as Clack stops
;;;; them (destroying that thread), over real sockets.

(in-package #:c10k/tests)

(in-suite c10k)

(defun call-with-clack-app (app function &rest options)
  "Runs APP with clack.handler.c10k:run on a free port in a new thread, calls
FUNCTION with the port, then stops it as clack:stop does."
  (let* ((ready (make-mailbox))
         (thread (bt:make-thread
                  (lambda ()
                    (handler-case
                        (apply #'clack.handler.c10k:run app :port 0
                               :on-ready (lambda (server) (mailbox-put ready server))
                               options)
                      (error (e) (mailbox-put ready e))))
                  :name "clack app"
                  ;; As clack.handler:run does, so that reports go to the
                  ;; caller's *ERROR-OUTPUT*.
                  :initial-bindings `((*error-output* . ,*error-output*)))))
    (let ((server (mailbox-take ready)))
      (unwind-protect
           (progn
             (when (typep server 'error) (error server))
             (funcall function (c10k:server-port server)))
        (bt:destroy-thread thread)
        (sb-thread:join-thread thread :default nil)
        (is (not (c10k:server-running-p server)))))))

(defmacro with-clack-app ((port app &rest options) &body body)
  `(call-with-clack-app ,app (lambda (,port) ,@body) ,@options))

(defun request-text (port text)
  "Sends TEXT (a whole request, ~% for CRLF) and returns the response as
status, headers, body."
  (multiple-value-bind (stream socket) (connect port)
    (unwind-protect
         (progn (write-sequence (octets (crlf text)) stream)
                (finish-output stream)
                (parse-response (read-all stream)))
      (sb-bsd-sockets:socket-close socket))))

(defun crlf (text)
  "TEXT with each newline made CRLF."
  (with-output-to-string (out)
    (loop for c across text
          do (if (char= c #\Newline) (write-string (format nil "~C~C" #\Return #\Newline) out)
                 (write-char c out)))))

(test clack-environment
  (let (env)
    (with-clack-app (port (lambda (e) (setf env e) '(200 (:content-type "text/plain") ("ok"))))
      (is (= 200 (request-text port (format nil "GET /a%20b/%E3%81%82?x=1&y=%C3%A9 HTTP/1.1~%~
                                                 Host: example.test:8081~%X-Multi: one~%~
                                                 x-multi: two~%Connection: close~%~%")))))
    (is (eq :get (getf env :request-method)))
    (is (equal "" (getf env :script-name)))
    (is (equal (format nil "/a b/~C" (code-char #x3042)) (getf env :path-info)))
    (is (equal "x=1&y=%C3%A9" (getf env :query-string)))
    (is (equal "example.test" (getf env :server-name)))
    (is (eql 8081 (getf env :server-port)))
    (is (eq :http/1.1 (getf env :server-protocol)))
    (is (equal "/a%20b/%E3%81%82?x=1&y=%C3%A9" (getf env :request-uri)))
    (is (eq :http (getf env :url-scheme)))
    (is (equal "127.0.0.1" (getf env :remote-addr)))
    (is (typep (getf env :remote-port) '(integer 1 65535)))
    (is (null (getf env :content-length)))
    (is (hash-table-p (getf env :headers)))
    (is (equal "one, two" (gethash "x-multi" (getf env :headers))))
    (is (equal "example.test:8081" (gethash "host" (getf env :headers))))
    (is (getf env :clack.streaming))
    (with-clack-app (port (lambda (e) (setf env e) '(204 nil nil)))
      (is (= 204 (request-text port (format nil "OPTIONS * HTTP/1.0~%~%")))))
    (is (eq :options (getf env :request-method)))
    (is (eq :http/1.0 (getf env :server-protocol)))
    (is (equal "127.0.0.1" (getf env :server-name)))))

(test clack-environment-values-are-each-requests-own
  ;; Repeated header values, server names and client addresses are shared
  ;; from one request to the next when their bytes are the same: a request
  ;; with other bytes must still see its own.
  (let ((seen '())
        (cases `(("a.test" "agent/1" "text/html" "text/plain")
                 ("a.test" "agent/1" "text/html" "text/plain")
                 ("b.test" "agent/22" "*/*" "x/y")
                 ("a.test" "agent/2" "text/htmL" "text/plain")
                 ("127.0.0.1" ,(format nil "~Cgent" (code-char #xe4)) "text/html" "text/plain"))))
    (with-clack-app (port (lambda (env)
                            (let ((headers (getf env :headers)))
                              (push (list (getf env :server-name) (gethash "user-agent" headers)
                                          (gethash "accept" headers) (getf env :content-type)
                                          (getf env :remote-addr))
                                    seen)
                              '(200 (:content-type "text/plain") ("ok")))))
      (loop for (host agent accept type) in cases
            do (is (= 200 (request-text port (format nil "GET / HTTP/1.1~%Host: ~A~%~
                                                          User-Agent: ~A~%Accept: ~A~%~
                                                          Content-Type: ~A~%~
                                                          Connection: close~%~%"
                                                     host agent accept type))))))
    (is (equal (mapcar (lambda (case) (append case '("127.0.0.1"))) cases) (reverse seen)))))

(test clack-response-headers-beyond-the-stack-block
  ;; Header fields that do not fit the stack block, or are not ASCII, are
  ;; converted and sent from the heap.
  (let ((long (make-string 5000 :initial-element #\v))
        (text (format nil "caf~C" (code-char #xe9))))
    (with-clack-app (port (lambda (env)
                            (declare (ignore env))
                            `(200 (:content-type "text/plain" :x-long ,long :x-number 42
                                   "X-Text" ,text)
                                  ("ok"))))
      (multiple-value-bind (status headers body) (http port "GET" "/")
        (is (= 200 status))
        (is (string= "ok" body))
        (is (string= long (header "x-long" headers)))
        (is (string= "42" (header "x-number" headers)))
        ;; The client reads heads as Latin-1: these are the UTF-8 bytes.
        (is (string= (babel:octets-to-string (babel:string-to-octets text :encoding :utf-8)
                                             :encoding :latin-1)
                     (header "x-text" headers)))))))

(test clack-response-bodies
  (let ((file (uiop:with-temporary-file (:stream s :pathname p :keep t :direction :output)
                (write-string "from a file" s)
                p)))
    (unwind-protect
         (with-clack-app (port (lambda (env)
                                 (let ((path (getf env :path-info)))
                                   (cond ((string= path "/list")
                                          `(200 (:content-type "text/plain" :x-a "1" :x-a "2"
                                                 :x-none nil)
                                                ("Hello" ", " ,(octets "wörld"))))
                                         ((string= path "/octets")
                                          `(201 (:content-type "application/octet-stream")
                                                ,(octets "raw")))
                                         ((string= path "/file")
                                          `(200 (:content-type "text/plain") ,file))
                                         ((string= path "/missing")
                                          `(200 nil #p"/nonexistent/c10k-clack-test"))
                                         (t '(404 (:content-type "text/plain") ("Not Found")))))))
           (multiple-value-bind (status headers body) (http port "GET" "/list")
             (is (= 200 status))
             (is (string= "Hello, wörld" body))
             (is (string= "1, 2" (header "x-a" headers)))
             (is (null (assoc "x-none" headers :test #'string-equal)))
             (is (string= (princ-to-string (length (octets "Hello, wörld")))
                          (header "content-length" headers))))
           (multiple-value-bind (status headers body) (http port "GET" "/octets")
             (is (= 201 status))
             (is (string= "application/octet-stream" (header "content-type" headers)))
             (is (string= "raw" body)))
           (multiple-value-bind (status headers body) (http port "GET" "/file")
             (is (= 200 status))
             (is (string= "11" (header "content-length" headers)))
             (is (string= "from a file" body)))
           (is (= 404 (http port "GET" "/missing")))
           (is (= 404 (http port "GET" "/other"))))
      (delete-file file))))

(test clack-raw-body-streams-while-the-client-sends
  ;; The application reads the first half of the body while the client
  ;; still holds the second half back: the body is streamed, not read
  ;; whole first.
  (let ((first-half (make-mailbox))
        (half (* 300 1024)))
    (with-clack-app (port (lambda (env)
                            (let* ((stream (getf env :raw-body))
                                   (buffer (make-array half :element-type '(unsigned-byte 8))))
                              (read-sequence buffer stream)
                              (mailbox-put first-half (count 97 buffer))
                              (let ((rest (make-array half :element-type '(unsigned-byte 8))))
                                (read-sequence rest stream)
                                `(200 (:content-type "text/plain")
                                      (,(format nil "~D ~D ~D" (count 97 buffer) (count 98 rest)
                                                (getf env :content-length))))))))
      (multiple-value-bind (stream socket) (connect port)
        (unwind-protect
             (progn
               (write-sequence (octets (format nil "POST /up HTTP/1.1~C~CHost: t~C~C~
                                                    Content-Length: ~D~C~CConnection: close~C~C~C~C"
                                               #\Return #\Newline #\Return #\Newline (* 2 half)
                                               #\Return #\Newline #\Return #\Newline
                                               #\Return #\Newline))
                               stream)
               (write-sequence (make-array half :element-type '(unsigned-byte 8) :initial-element 97)
                               stream)
               (finish-output stream)
               (is (= half (mailbox-take first-half)))
               (write-sequence (make-array half :element-type '(unsigned-byte 8) :initial-element 98)
                               stream)
               (finish-output stream)
               (multiple-value-bind (status headers body) (parse-response (read-all stream))
                 (declare (ignore headers))
                 (is (= 200 status))
                 (is (string= (format nil "~D ~D ~D" half half (* 2 half)) body))))
          (sb-bsd-sockets:socket-close socket))))))

(test clack-delayed-responses
  (with-clack-app (port (lambda (env)
                          (let ((path (getf env :path-info)))
                            (cond ((string= path "/whole")
                                   (lambda (responder)
                                     (bt:make-thread
                                      (lambda ()
                                        (sleep 0.05)
                                        (funcall responder '(200 (:content-type "text/plain")
                                                             ("later")))))))
                                  ((string= path "/inline-stream")
                                   ;; As Clack's own suite does: the writer
                                   ;; called within the application.
                                   (lambda (responder)
                                     (let ((writer (funcall responder '(200 (:content-type "text/plain")))))
                                       (dotimes (i 3) (funcall writer (format nil "~D~%" i)))
                                       (funcall writer "" :close t))))
                                  (t
                                   (lambda (responder)
                                     (bt:make-thread
                                      (lambda ()
                                        (let ((writer (funcall responder '(200 (:content-type "text/plain")))))
                                          (dotimes (i 5)
                                            (sleep 0.01)
                                            (funcall writer (format nil "chunk ~D;" i)))
                                          (funcall writer (octets "end") :close t))))))))))
    (multiple-value-bind (status headers body) (http port "GET" "/whole")
      (is (= 200 status))
      (is (string= "5" (header "content-length" headers)))
      (is (string= "later" body)))
    (multiple-value-bind (status headers body) (http port "GET" "/inline-stream")
      (is (= 200 status))
      (is (string= "chunked" (header "transfer-encoding" headers)))
      (is (string= (format nil "0~%1~%2~%") (dechunk body))))
    (multiple-value-bind (status headers body) (http port "GET" "/thread-stream")
      (is (= 200 status))
      (is (string= "chunked" (header "transfer-encoding" headers)))
      (is (string= "chunk 0;chunk 1;chunk 2;chunk 3;chunk 4;end" (dechunk body))))))

(defun dechunk (text)
  "The payload of the chunked body TEXT."
  (with-output-to-string (out)
    (loop with start = 0
          for line-end = (search (format nil "~C~C" #\Return #\Newline) text :start2 start)
          for size = (and line-end (parse-integer text :start start :end line-end :radix 16
                                                       :junk-allowed t))
          while (and size (plusp size))
          do (write-string text out :start (+ line-end 2) :end (+ line-end 2 size))
             (setf start (+ line-end 2 size 2)))))

(test clack-streaming-writer-waits-for-a-slow-reader
  ;; A writer on another thread streams 32 MiB to a client that reads
  ;; nothing at first: the writer must be held back (the library's queue
  ;; is bounded) until the client reads, and every byte must arrive.
  (let* ((chunk (make-array 65536 :element-type '(unsigned-byte 8) :initial-element 120))
         (chunks 512)
         (written (list 0)))
    (with-clack-app (port (lambda (env)
                            (declare (ignore env))
                            (lambda (responder)
                              (bt:make-thread
                               (lambda ()
                                 (let ((writer (funcall responder '(200 (:content-type "application/octet-stream")))))
                                   (dotimes (i chunks)
                                     (funcall writer chunk)
                                     (sb-ext:atomic-incf (car written)))
                                   (funcall writer nil :close t)))))))
      (multiple-value-bind (stream socket) (connect port)
        (unwind-protect
             (progn
               (write-sequence (octets (format nil "GET / HTTP/1.1~C~CHost: t~C~CConnection: close~C~C~C~C"
                                               #\Return #\Newline #\Return #\Newline
                                               #\Return #\Newline #\Return #\Newline))
                               stream)
               (finish-output stream)
               (sleep 1)
               (is (< (car written) 256) "~D chunks of 64 KiB written to a client reading nothing"
                   (car written))
               (let ((total (- (length (read-all stream)) 0)))
                 (is (> total (* chunks 65536)))
                 (is (= chunks (car written)))))
          (sb-bsd-sockets:socket-close socket))))))

(test clack-errors-answer-500-and-the-server-goes-on
  (let ((log (make-string-output-stream)))
    (let ((*error-output* log))
      (with-clack-app (port (lambda (env)
                              (if (string= (getf env :path-info) "/boom")
                                  (error "kaboom in the app")
                                  '(200 nil ("fine")))))
        (multiple-value-bind (status headers body) (http port "GET" "/boom")
          (declare (ignore headers))
          (is (= 500 status))
          (is (not (search "kaboom" body)) "no details without :debug"))
        (is (= 500 (http port "POST" "/boom" :body "with a body")))
        (is (string= "fine" (nth-value 2 (http port "GET" "/"))))))
    (let ((text (get-output-stream-string log)))
      (is (search "kaboom in the app" text))
      (is (search "Backtrace" text))))
  (let ((*error-output* (make-broadcast-stream)))
    (with-clack-app (port (lambda (env) (declare (ignore env)) (error "kaboom in debug"))
                          :debug t)
      (multiple-value-bind (status headers body) (http port "GET" "/")
        (is (= 500 status))
        (is (search "text/plain" (header "content-type" headers)))
        (is (search "kaboom in debug" body))
        (is (search "Backtrace" body))))))

(defun clack-live-app (env)
  (declare (ignore env))
  '(200 nil ("first")))

(test clack-app-symbol-is-looked-up-at-each-request
  (with-clack-app (port 'clack-live-app)
    (is (string= "first" (nth-value 2 (http port "GET" "/"))))
    (quietly-eval '(defun clack-live-app (env) (declare (ignore env)) '(200 nil ("second"))))
    (is (string= "second" (nth-value 2 (http port "GET" "/")))))
  (quietly-eval '(defun clack-live-app (env) (declare (ignore env)) '(200 nil ("first")))))

(test clack-access-log
  (let ((path (uiop:with-temporary-file (:pathname p :keep t) p)))
    (unwind-protect
         (progn
           (with-clack-app (port (lambda (env) (declare (ignore env)) '(200 nil ("logged")))
                                 :access-log path)
             (http port "GET" "/logged-path?q=1"))
           (let ((text (loop repeat 100
                             for text = (uiop:read-file-string path)
                             until (search "/logged-path" text)
                             do (sleep 0.05)
                             finally (return text))))
             (is (search "\"GET /logged-path?q=1 HTTP/1.1\" 200" text) "access log: ~S" text)))
      (delete-file path))))
